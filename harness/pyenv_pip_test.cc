#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "harness/run_options.h"

namespace peakbench {
namespace {

// The machine's real pyenv (the one the pip tests use), found as the CLI finds it.
std::string pyenv_root() {
  const char* home = std::getenv("HOME");
  return home == nullptr ? std::string() : std::string(home) + "/.pyenv";
}

TEST(PyenvPips, APyenvVersionIsThatVersionsInterpreter) {
  if (!std::filesystem::exists(pyenv_root() + "/versions/3.13.0/bin/python")) {
    GTEST_SKIP() << "no pyenv 3.13.0 here";
  }
  RunArgs args;
  args.strategies = "none";
  args.pips = {"new=pyenv:3.13.0"};
  args.pyenv_root = pyenv_root();
  auto options = resolve_run_options(args);
  ASSERT_TRUE(options.ok()) << options.message();
  ASSERT_EQ(options->subjects.size(), 1u);
  EXPECT_EQ(options->subjects[0].name, "new");
  EXPECT_EQ(options->subjects[0].client.python, pyenv_root() + "/versions/3.13.0/bin/python");
}

TEST(PyenvPips, WithoutAPyenvRootOrWithABadVersionItSaysSo) {
  RunArgs args;
  args.strategies = "none";
  args.pips = {"new=pyenv:3.13.0"};
  auto options = resolve_run_options(args);
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.message(),
            "--pip new=pyenv:3.13.0: no pyenv root (set PYENV_ROOT, or give the interpreter's "
            "path)");
  args.pyenv_root = "/nonexistent";
  args.pips = {"new=pyenv:"};
  EXPECT_FALSE(resolve_run_options(args).ok());
  args.pips = {"new=pyenv:3.99.0"};
  auto missing = resolve_run_options(args);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("/nonexistent/versions/3.99.0/bin/python"), std::string::npos)
      << missing.message();
}

}  // namespace
}  // namespace peakbench
