// Fuzz target: architecture strings and their JSON form (parse_architecture,
// architecture_from_json; src/nn/network.cpp). An architecture that parses has stages, a
// canonical spelling that parses back to it, and the same JSON round trip.
#include <nlohmann/json.hpp>

#include "fuzz_common.hpp"
#include "spinsc/network.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // A ".json" ending names a file; the text form is what is fuzzed here, the JSON form below.
  if (text.size() > 5 && text.ends_with(".json")) return 0;
  spinsc::Architecture a;
  if (spinsc::fuzz::expect_errors([&] { a = spinsc::parse_architecture(text); })) {
    if (spinsc::stages(a).empty()) std::abort();
    if (spinsc::parse_architecture(spinsc::to_string(a)) != a) std::abort();
    if (spinsc::architecture_from_json(spinsc::to_json(a)) != a) std::abort();
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);  // no exceptions: discarded on error
  if (j.is_discarded()) return 0;
  spinsc::fuzz::expect_errors([&] {
    const spinsc::Architecture b = spinsc::architecture_from_json(j);
    if (spinsc::parse_architecture(spinsc::to_string(b)) != b) std::abort();
  });
  return 0;
}
