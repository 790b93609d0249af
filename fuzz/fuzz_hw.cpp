// Fuzz target: hardware parameter files, JSON (parse_hw_params, src/hw/hw_params.cpp;
// load_hw_params reads the file and calls it). "extends" resolves against a scratch directory
// holding base.json (the built-in default), so "extends": "base.json" and "default" both work.
// Parameters that parse then price a small network, as `spinsc cost --hw` does.
#include <fstream>

#include "fuzz_common.hpp"
#include "spinsc/cost_model.hpp"
#include "spinsc/hw_params.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path base_dir = [] {
    const std::filesystem::path dir = spinsc::fuzz::scratch_dir();
    const std::string_view json = spinsc::default_hw_params_json();
    std::ofstream(dir / "base.json", std::ios::binary).write(json.data(), static_cast<std::streamsize>(json.size()));
    return dir;
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  spinsc::HwParams hw;
  bool parsed = false;
  parsed = spinsc::fuzz::expect_errors([&] { hw = spinsc::parse_hw_params(text, "fuzz.json", base_dir); });
  if (!parsed) return 0;
  spinsc::fuzz::expect_errors([&] {
    spinsc::CostOptions options;
    options.length = 16;
    (void)spinsc::cost_report(spinsc::cost_architecture({16, 8, 4}, 5), options, hw);
  });
  return 0;
}
