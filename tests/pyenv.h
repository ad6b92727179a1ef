#pragma once
// The machine's pyenv interpreters, which the real-pip tests run: PYENV_ROOT, ~/.pyenv or
// /root/.pyenv, in that order.

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace peakbench::testing {

/// `ROOT/versions/VERSION/bin/python` of the first root that has it; empty when none does.
inline std::filesystem::path pyenv_python(const std::string& version) {
  std::vector<std::filesystem::path> roots;
  if (const char* r = std::getenv("PYENV_ROOT"); r != nullptr && *r != '\0') roots.emplace_back(r);
  if (const char* home = std::getenv("HOME"); home != nullptr) {
    roots.emplace_back(std::filesystem::path(home) / ".pyenv");
  }
  roots.emplace_back("/root/.pyenv");
  for (const std::filesystem::path& root : roots) {
    const std::filesystem::path python = root / "versions" / version / "bin" / "python";
    if (std::filesystem::exists(python)) return python;
  }
  return {};
}

}  // namespace peakbench::testing
