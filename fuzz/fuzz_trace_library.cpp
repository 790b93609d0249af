// Fuzz target: a trace library, as `trace:DIR` and `spinsc device calibrate --traces DIR` use it
// (load_trace_library = parse_trace over the directory's *.trace files in name order, then
// TraceSource and calibrate(), src/device/trace_source.cpp and calibrate.cpp).
//
// Input: byte 0 = the stream length to draw (1..256), then up to 8 trace files separated by NUL
// bytes. The library is replayed for several p, calibrated, and the fitted device description
// (what `--write-device` writes) must read back.
#include <cstdio>
#include <vector>

#include "fuzz_common.hpp"
#include "spinsc/calibrate.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/trace.hpp"
#include "spinsc/trace_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  spinsc::fuzz::Input in(data, size);
  const int length = 1 + in.byte();
  std::vector<spinsc::Trace> traces;
  bool ok = true;
  for (int i = 0; i < 8 && !in.empty() && ok; ++i) {
    const std::string_view text = in.until_nul();
    ok = spinsc::fuzz::expect_errors(
        [&] { traces.push_back(spinsc::parse_trace(text, "library/" + std::to_string(i) + ".trace")); });
  }
  if (!ok || traces.empty()) return 0;

  spinsc::fuzz::expect_errors([&] {
    const spinsc::TraceSource source(traces, "trace:library");
    std::vector<uint64_t> words(static_cast<size_t>(spinsc::words_for(length)));
    spinsc::StreamKey key;
    for (double p : {0.0, 1e-9, 0.1, 0.5, 0.75, 1.0 - 1e-9, 1.0}) {
      key.device++;
      const double mean = source.bit_mean(p, key);
      const double factor = source.count_variance_factor(p, length);
      if (!(mean >= 0 && mean <= 1) || !(factor >= 0)) std::abort();
      spinsc::fuzz::expect_errors([&] { source.generate(p, length, key, words.data()); });
    }
  });
  spinsc::fuzz::expect_errors([&] {
    const spinsc::Calibration c = spinsc::calibrate(traces);
    (void)spinsc::calibration_text(c);
    (void)spinsc::calibration_json(c);
    const spinsc::DeviceConfig fitted = spinsc::fitted_device(c, spinsc::reference_device());
    const std::string text = spinsc::to_json_text(fitted);
    // The description `device calibrate --write-device` writes must be one the program reads.
    try {
      spinsc::parse_device_config(text, "fitted.json");
    } catch (const spinsc::Error& e) {
      std::fprintf(stderr, "fitted device description does not read back: %s\n%s", e.what(), text.c_str());
      std::abort();
    }
  });
  return 0;
}
