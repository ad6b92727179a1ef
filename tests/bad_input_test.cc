// The bad-input contract (DESIGN §5), one row per subcommand and flag with a bad value: the real
// binary exits 2 and says what is wrong in exactly one line on stderr, never aborts.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::run_peakbench;
using testing::source_path;
using testing::TempDir;

struct Row {
  std::string what;
  std::vector<std::string> args;  ///< "{dir}" is replaced by the test's scratch directory
  std::vector<std::string> env = {};
  std::string expect = {};  ///< a part of the message, when it matters
};

void write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

/// The golden report with `from` replaced by `to` once.
void write_edited_report(const fs::path& path, const std::string& from, const std::string& to) {
  std::string text = testing::slurp(source_path("reports/golden/report.json"));
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  write(path, text);
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path d = dir_.path();
    write(d / "e999.json", R"({"repeat": 1e999})");
    write(d / "repeat-big.json", R"({"repeat": 4294967297})");
    write(d / "empty-sizes.json", R"({"sizes": []})");
    write(d / "empty-strategies.json", R"({"strategies": []})");
    write(d / "name-number.json", R"({"name": 5})");
    write(d / "description-list.json", R"({"description": ["a"]})");
    write(d / "newline-field.json", "{\"a\\nb\": 1}");
    write(d / "label-ff.json", "{\"label\": \"\\u0001\"}");
    write(d / "rules-newline.json", R"({"rules": [{"name": "a\nb", "max_peak": "x"}]})");
    // Dependency trees ("packages"): one row per rule of resolve_packages.
    const std::string dep = R"({"name": "dep", "size": "1MiB"})";
    auto tree = [&](const std::string& name, const std::string& packages) {
      write(d / (name + ".json"), R"({"packages": )" + packages + "}");
    };
    tree("pkg-ok", R"([{"name": "app", "size": "1MiB", "requires": ["dep"]}, )" + dep + "]");
    tree("pkg-not-list", R"({"name": "a"})");
    tree("pkg-empty", "[]");
    tree("pkg-no-size", R"([{"name": "app"}])");
    tree("pkg-no-name", R"([{"size": "1MiB"}])");
    tree("pkg-unknown-field", R"([{"name": "app", "size": "1MiB", "extras": []}])");
    tree("pkg-bad-name", R"([{"name": "-app", "size": "1MiB"}])");
    tree("pkg-bad-size", R"([{"name": "app", "size": "12 parsecs"}])");
    tree("pkg-small", R"([{"name": "app", "size": "1KiB"}])");
    tree("pkg-twice", R"([{"name": "App_1", "size": "1MiB"}, {"name": "app-1", "size": "1MiB"}])");
    tree("pkg-missing-dep", R"([{"name": "app", "size": "1MiB", "requires": ["nope"]}])");
    tree("pkg-self", R"([{"name": "app", "size": "1MiB", "requires": ["APP"]}])");
    tree("pkg-unreached", R"([{"name": "app", "size": "1MiB"}, )" + dep + "]");
    tree("pkg-requires-number", R"([{"name": "app", "size": "1MiB", "requires": [1]}])");
    write(d / "pkg-and-sizes.json",
          R"({"sizes": ["1MiB"], "packages": [{"name": "app", "size": "1MiB"}]})");
    write(d / "file", "not a directory");
    fs::create_symlink("loop", d / "loop");
    write_edited_report(d / "unknown-key.json", "\"label\": \"ci-suite\",",
                        "\"label\": \"ci-suite\", \"surprise\": 1,");
    write_edited_report(d / "newline-key.json", "\"label\": \"ci-suite\",",
                        "\"label\": \"ci-suite\", \"a\\nb\": 1,");
    write_edited_report(d / "repetition-negative.json", "\"repetition\": 0", "\"repetition\": -1");
    write_edited_report(d / "repetition-2p32.json", "\"repetition\": 0",
                        "\"repetition\": 4294967296");
    write_edited_report(d / "exit-float.json", "\"exit_status\": 0", "\"exit_status\": 0.5");
  }
  TempDir dir_{"bad-input"};
};

TEST_F(BadInput, EveryRowExitsTwoWithOneLine) {
  const std::string long_component(300, 'p');
  const std::vector<Row> rows = {
      // run: text that reaches the report must be one line of UTF-8
      {"run --label 0xff", {"run", "--label", "\xff"}, {}, "--label"},
      {"run --label newline", {"run", "--label", "a\nb"}, {}, "control character"},
      {"run --suite path 0xff", {"run", "--suite", "{dir}/\xff.json"}, {}, "--suite"},
      {"run --work-dir 0xff", {"run", "--work-dir", "{dir}/\xff"}, {}, "--work-dir"},
      {"run --out 0xff", {"run", "--out", "{dir}/\xff.json"}, {}, "--out"},
      {"run --client name 0xff", {"run", "--client", "c\xff=true"}, {}, "name"},
      {"run --client template 0xff", {"run", "--client", "c=echo \xff"}, {}, "UTF-8"},
      {"run --client escapes the work dir", {"run", "--client", "../../escape=true"}, {}, "name"},
      {"run --client slash", {"run", "--client", "a/b=true"}, {}, "name"},
      {"run --client leading dot", {"run", "--client", ".hidden=true"}, {}, "name"},
      {"run --client newline in name", {"run", "--client", "a\nb=true"}, {}, "name"},
      {"run --pip long component", {"run", "--pip", "p=/" + long_component + "/python"}},
      // run: suites
      {"run suite 1e999", {"run", "--suite", "{dir}/e999.json"}, {}, "e999.json"},
      {"run suite repeat 2^32+1", {"run", "--suite", "{dir}/repeat-big.json"}, {}, "repeat"},
      {"run suite empty sizes", {"run", "--suite", "{dir}/empty-sizes.json"}, {}, "empty"},
      {"run suite empty strategies", {"run", "--suite", "{dir}/empty-strategies.json"}},
      {"run suite name number", {"run", "--suite", "{dir}/name-number.json"}, {}, "name"},
      {"run suite description list", {"run", "--suite", "{dir}/description-list.json"}},
      {"run suite newline field", {"run", "--suite", "{dir}/newline-field.json"}, {}, "a\\nb"},
      {"run suite label control", {"run", "--suite", "{dir}/label-ff.json"}, {}, "label"},
      {"run suite missing", {"run", "--suite", "{dir}/none.json"}},
      {"run packages not a list", {"run", "--suite", "{dir}/pkg-not-list.json"}, {}, "packages"},
      {"run packages empty", {"run", "--suite", "{dir}/pkg-empty.json"}, {}, "packages"},
      {"run package no size", {"run", "--suite", "{dir}/pkg-no-size.json"}, {}, "size"},
      {"run package no name", {"run", "--suite", "{dir}/pkg-no-name.json"}, {}, "name"},
      {"run package unknown field",
       {"run", "--suite", "{dir}/pkg-unknown-field.json"},
       {},
       "extras"},
      {"run package bad name", {"run", "--suite", "{dir}/pkg-bad-name.json"}, {}, "-app"},
      {"run package bad size", {"run", "--suite", "{dir}/pkg-bad-size.json"}, {}, "parsecs"},
      {"run package too small", {"run", "--suite", "{dir}/pkg-small.json"}, {}, "smallest"},
      {"run package twice", {"run", "--suite", "{dir}/pkg-twice.json"}, {}, "twice"},
      {"run package missing dep", {"run", "--suite", "{dir}/pkg-missing-dep.json"}, {}, "nope"},
      {"run package requires itself", {"run", "--suite", "{dir}/pkg-self.json"}, {}, "itself"},
      {"run package unreached", {"run", "--suite", "{dir}/pkg-unreached.json"}, {}, "dep"},
      {"run package requires number",
       {"run", "--suite", "{dir}/pkg-requires-number.json"},
       {},
       "requires"},
      {"serve --suite without packages",
       {"serve", "--suite", source_path("scenarios/default.json").string()},
       {},
       "packages"},
      {"serve --suite bad tree", {"serve", "--suite", "{dir}/pkg-unreached.json"}, {}, "dep"},
      {"run packages and sizes", {"run", "--suite", "{dir}/pkg-and-sizes.json"}, {}, "not both"},
      {"run packages and --size",
       {"run", "--suite", "{dir}/pkg-ok.json", "--size", "1MiB"},
       {},
       "not both"},
      {"run suite a directory", {"run", "--suite", "{dir}"}},
      // run: numbers and sizes
      {"run --sample-ms nan", {"run", "--sample-ms", "nan"}, {}, "--sample-ms"},
      {"run --sample-ms inf", {"run", "--sample-ms", "inf"}},
      {"run --size 1TiB", {"run", "--size", "1TiB"}, {}, "largest"},
      {"run --size 2^64-1", {"run", "--size", "18446744073709551615"}, {}, "largest"},
      {"run --size 2^64", {"run", "--size", "18446744073709551616"}},
      {"run --size empty", {"run", "--size", ""}},
      {"run --repeat empty", {"run", "--repeat", ""}},
      {"run --repeat 2^32+1", {"run", "--repeat", "4294967297"}},
      {"run --repeat 0", {"run", "--repeat", "0"}},
      {"run --shard empty", {"run", "--shard", ""}},
      {"run --phase empty", {"run", "--phase", ""}},
      {"run --format empty", {"run", "--format", ""}},
      // run: filesystem errors during the checks
      {"run --out through a symlink loop", {"run", "--out", "{dir}/loop/x/report.json"}},
      {"run --out under a file", {"run", "--out", "{dir}/file/report.json"}},
      {"run TMPDIR missing",
       {"run", "--strategy", "streaming", "--size", "1MiB", "--repeat", "1"},
       {"TMPDIR={dir}/none"},
       "TMPDIR"},
      {"run TMPDIR a file",
       {"run", "--strategy", "streaming", "--size", "1MiB", "--repeat", "1"},
       {"TMPDIR={dir}/file"},
       "TMPDIR"},
      // gate
      {"gate --max-increase empty",
       {"gate", "{dir}/unknown-key.json", "--baseline", "{dir}/unknown-key.json", "--max-increase",
        ""}},
      {"gate --max-increase +-5%",
       {"gate", source_path("reports/golden/report.json").string(), "--baseline",
        source_path("reports/golden/report.json").string(), "--max-increase", "+-5%"},
       {},
       "increase"},
      {"gate rule name with a newline",
       {"gate", source_path("reports/golden/report.json").string(), "--rules",
        "{dir}/rules-newline.json"}},
      // the report reader is as strict as the schema
      {"table unknown key", {"table", "{dir}/unknown-key.json"}, {}, "surprise"},
      {"table newline key", {"table", "{dir}/newline-key.json"}, {}, "a\\nb"},
      {"table repetition -1", {"table", "{dir}/repetition-negative.json"}, {}, "repetition"},
      {"table repetition 2^32", {"table", "{dir}/repetition-2p32.json"}, {}, "repetition"},
      {"table exit_status 0.5", {"table", "{dir}/exit-float.json"}, {}, "exit_status"},
      {"merge unknown key", {"merge", "--out", "{dir}/m.json", "{dir}/unknown-key.json"}},
      // wheel and serve
      {"wheel --seed -1", {"wheel", "--size", "1MiB", "--out", "{dir}/w.whl", "--seed", "-1"}},
      {"wheel --size 1TiB", {"wheel", "--size", "1TiB", "--out", "{dir}/w.whl"}, {}, "largest"},
      {"serve --seed 2^64", {"serve", "--size", "1MiB", "--seed", "18446744073709551616"}},
      {"serve --variant CRLF", {"serve", "--size", "1MiB", "--variant", "max-age=1\r\nX-A: b"}},
      {"serve --variant max-age huge", {"serve", "--size", "1MiB", "--variant", "max-age=1e9"}},
      {"serve --variant max-age 2^40",
       {"serve", "--size", "1MiB", "--variant", "max-age=1099511627776"}},
      // fetch: what libcurl would refuse is bad usage, not a failed download
      {"fetch --out no dir",
       {"fetch", "--strategy", "streaming", "--cache-dir", "{dir}/c", "--out", "/nonexistent/x",
        "http://127.0.0.1:1/f.whl"}},
      {"fetch --out with two URLs",
       {"fetch", "--strategy", "streaming", "--cache-dir", "{dir}/c", "--out", "{dir}/x",
        "http://127.0.0.1:1/a.whl", "http://127.0.0.1:1/b.whl"},
       {},
       "one URL"},
      {"fetch a bad second URL",
       {"fetch", "--strategy", "streaming", "--cache-dir", "{dir}/c", "http://127.0.0.1:1/a.whl",
        "http://[::1/b.whl"}},
      {"fetch port 99999",
       {"fetch", "--strategy", "streaming", "--cache-dir", "{dir}/c",
        "http://127.0.0.1:99999/f.whl"}},
      {"fetch unclosed bracket",
       {"fetch", "--strategy", "streaming", "--cache-dir", "{dir}/c", "http://[::1/f.whl"}},
      {"fetch space",
       {"fetch", "--strategy", "streaming", "--cache-dir", "{dir}/c",
        "http://127.0.0.1:1/a b.whl"}},
      {"fetch CRLF",
       {"fetch", "--strategy", "streaming", "--cache-dir", "{dir}/c",
        "http://127.0.0.1:1/a\r\nX: y"}},
      // the other flags of each command
      {"run --phase nap", {"run", "--phase", "nap"}, {}, "phase"},
      {"run --strategy nope", {"run", "--strategy", "nope"}},
      {"run --allocator tcmalloc", {"run", "--allocator", "tcmalloc"}, {}, "allocator"},
      {"run --memory-limit 1KiB", {"run", "--memory-limit", "1KiB"}, {}, "--memory-limit"},
      {"run --shard 3/2", {"run", "--shard", "3/2"}},
      {"run --format xml", {"run", "--format", "xml"}, {}, "format"},
      {"table --format nope", {"table", "{dir}/unknown-key.json", "--format", "nope"}},
      {"compare --format nope", {"compare", "{dir}/a.json", "{dir}/b.json", "--format", "nope"}},
      {"compare missing file", {"compare", "{dir}/a.json", "{dir}/b.json"}},
      {"gate with nothing to gate", {"gate", "{dir}/unknown-key.json"}},
      {"plot --out no dir",
       {"plot", source_path("reports/golden/report.json").string(), "--out", "/nonexistent/x.svg"}},
      {"merge --out no dir",
       {"merge", "--out", "/nonexistent/m.json",
        source_path("reports/golden/report.json").string()}},
      // the command itself
      {"unknown command with a newline", {"ru\nn"}},
  };
  const std::string dir = dir_.path().string();
  for (const Row& row : rows) {
    std::vector<std::string> args = row.args, env = row.env;
    for (auto* list : {&args, &env}) {
      for (std::string& a : *list) {
        for (auto at = a.find("{dir}"); at != std::string::npos; at = a.find("{dir}")) {
          a.replace(at, 5, dir);
        }
      }
    }
    const CliResult r = run_peakbench(args, env);
    EXPECT_EQ(r.exit_status, 2) << row.what << "\nstderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << row.what << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("peakbench: error: ", 0), 0u) << row.what << "\n" << r.err;
    EXPECT_EQ(r.err.find('\r'), std::string::npos) << row.what;
    if (!row.expect.empty()) {
      EXPECT_NE(r.err.find(row.expect), std::string::npos) << row.what << "\n" << r.err;
    }
  }
}

}  // namespace
}  // namespace peakbench
