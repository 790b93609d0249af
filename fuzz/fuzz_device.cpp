// Fuzz target: s-MTJ device descriptions, JSON (parse_device_config,
// src/device/device_config.cpp; load_device_config reads the file and calls it). A description
// that parses must survive to_json_text() and parse back to the same text.
#include "fuzz_common.hpp"
#include "spinsc/device_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  spinsc::DeviceConfig c;
  bool parsed = false;
  parsed = spinsc::fuzz::expect_errors([&] { c = spinsc::parse_device_config(text, "fuzz.json"); });
  if (!parsed) return 0;
  const std::string canonical = spinsc::to_json_text(c);
  const std::string again = spinsc::to_json_text(spinsc::parse_device_config(canonical, "fuzz.json (canonical)"));
  if (again != canonical) std::abort();
  return 0;
}
