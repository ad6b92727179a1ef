#include "harness/client_template.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace peakbench {
namespace {

TemplateValues sample_values() {
  return {.index_url = "http://127.0.0.1:8080/simple/",
          .trusted_host = "127.0.0.1",
          .cache_dir = "/tmp/a cache",
          .work_dir = "/tmp/work",
          .package = "peakbench_payload==1.0.0",
          .python = "/usr/bin/python3"};
}

TEST(ClientTemplate, ThePipPresetExpandsToPipsArgv) {
  auto argv = expand_template(kPipTemplate, sample_values());
  ASSERT_TRUE(argv.ok()) << argv.message();
  const std::vector<std::string> expected = {"/usr/bin/python3",
                                             "-m",
                                             "pip",
                                             "install",
                                             "--no-deps",
                                             "--disable-pip-version-check",
                                             "--quiet",
                                             "--index-url",
                                             "http://127.0.0.1:8080/simple/",
                                             "--trusted-host",
                                             "127.0.0.1",
                                             "--cache-dir",
                                             "/tmp/a cache",
                                             "--target",
                                             "/tmp/work",
                                             "peakbench_payload==1.0.0"};
  EXPECT_EQ(*argv, expected);  // a value with a space stays one argument
}

TEST(ClientTemplate, QuotesGroupWordsAndPlaceholdersExpandInsideThem) {
  auto argv = expand_template("sh -c 'curl -s -o {work_dir}/x {index_url}'", sample_values());
  ASSERT_TRUE(argv.ok()) << argv.message();
  ASSERT_EQ(argv->size(), 3u);
  EXPECT_EQ((*argv)[2], "curl -s -o /tmp/work/x http://127.0.0.1:8080/simple/");
}

TEST(ClientTemplate, AnUnknownPlaceholderIsNamed) {
  auto spec = parse_client("mine=curl {index} -o {work_dir}/x");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.message().find("unknown placeholder {index}"), std::string::npos)
      << spec.message();
}

TEST(ClientTemplate, BadAssignmentsAndShellOperatorsAreRefused) {
  EXPECT_FALSE(parse_client("no-equals-sign").ok());
  EXPECT_FALSE(parse_client("=curl {index_url}").ok());
  EXPECT_FALSE(parse_client("x=").ok());
  auto piped = parse_client("x=curl {index_url} | tee log");
  ASSERT_FALSE(piped.ok());
  EXPECT_NE(piped.message().find("shell operator"), std::string::npos);
  EXPECT_FALSE(parse_client("x=echo $(id)").ok());
}

// A template means the same command wherever peakbench runs: `*`, `?` and `[...]` are not
// matched against the files of the working directory, even where files would match.
TEST(ClientTemplate, GlobCharactersArePassedAsWrittenAndMatchNoFile) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("peakbench-glob-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a.whl") << "x";
  std::ofstream(dir / "b.whl") << "x";
  const fs::path was = fs::current_path();
  fs::current_path(dir);
  auto argv = expand_template("ls *.whl ?.whl [ab].whl {work_dir}/*", sample_values());
  fs::current_path(was);
  fs::remove_all(dir);
  ASSERT_TRUE(argv.ok()) << argv.message();
  EXPECT_EQ(*argv, (std::vector<std::string>{"ls", "*.whl", "?.whl", "[ab].whl", "/tmp/work/*"}));
}

TEST(ClientTemplate, AControlCharacterIsRefusedByCode) {
  auto spec = parse_client(std::string("x=curl \x01{index_url}"));
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.message(), "bad client template: it holds control character 0x01");
}

TEST(PipClient, AMissingInterpreterIsAOneLineError) {
  auto spec = parse_pip_client("old=/no/such/python3.11");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.message().find("/no/such/python3.11"), std::string::npos);
  EXPECT_EQ(spec.message().find('\n'), std::string::npos);
}

TEST(PipClient, AnInterpreterOnPathIsFound) {
  auto spec = parse_pip_client("system=sh");
  ASSERT_TRUE(spec.ok()) << spec.message();
  EXPECT_TRUE(std::filesystem::path(spec->python).is_absolute());
  EXPECT_EQ(spec->command_template, kPipTemplate);
}

TEST(PipClient, ACheckoutRunsWithItsSrcOnPythonPath) {
  const auto dir = std::filesystem::temp_directory_path() / "peakbench-pip-checkout-test";
  std::filesystem::create_directories(dir / "src" / "pip");
  { std::ofstream(dir / "src" / "pip" / "__init__.py") << "\n"; }
  auto spec = parse_pip_client("branch=" + dir.string());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(spec.ok()) << spec.message();
  EXPECT_EQ(spec->env.at("PYTHONPATH"), (dir / "src").string());
}

}  // namespace
}  // namespace peakbench
