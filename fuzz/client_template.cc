// Client specs and command templates (harness/client_template): `NAME=TEMPLATE`, pip specs,
// and expansion with fixed placeholder values.
#include "harness/client_template.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto client = peakbench::parse_client(text)) {
    peakbench::TemplateValues values;
    values.index_url = "http://127.0.0.1:1/simple/";
    values.trusted_host = "127.0.0.1";
    values.cache_dir = "/tmp/cache dir";
    values.work_dir = "/tmp/work";
    values.package = "peakbench-payload==1.0.0";
    values.python = "python3";
    (void)peakbench::expand_template(client->command_template, values);
  }
  (void)peakbench::parse_pip_client(text);
  return 0;
}
