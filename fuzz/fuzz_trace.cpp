// Fuzz target: one s-MTJ trace file (parse_trace, src/device/trace.cpp; read_trace reads the
// file and calls it). A trace that parses must survive its canonical form: format_trace() then
// parse_trace() gives the same samples.
#include "fuzz_common.hpp"
#include "spinsc/trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  spinsc::Trace trace;
  if (!spinsc::fuzz::expect_errors([&] { trace = spinsc::parse_trace(text, "fuzz.trace"); })) return 0;
  if (trace.length < 1 || trace.words.size() != static_cast<size_t>((trace.length + 63) / 64)) std::abort();
  // Canonical form round trip (what `spinsc device import` writes and the trace library reads).
  const spinsc::Trace again = spinsc::parse_trace(spinsc::format_trace(trace), "fuzz.trace (canonical)");
  if (again.length != trace.length || again.words != trace.words) std::abort();
  return 0;
}
