// Trace: one recorded (or simulated) s-MTJ time series at one bias point, SPEC §3.3.
//
// File format (text, docs/device.md): header lines `# key: value` (bias_current_A and/or
// target_p, sample_period_s, format bits|resistance|voltage, units, threshold, high_state
// ap|p, temperature_K, samples, note), `##` comment lines anywhere, then the samples separated
// by whitespace or newlines. In `bits` format a sample token is a run of 0/1 characters, one
// sample each; in `resistance`/`voltage` format each token is a number, converted to a bit by
// `value > threshold`, with `high_state` saying which magnetic state the high values are.
// In memory a Trace is always bits with 1 = AP. The canonical form written by format_trace()
// is the bits format, 64 samples per line.
//
// Bad input throws spinsc::Error as "FILE:LINE: what is wrong": bad header line, unknown key,
// missing field, unknown units, non-numeric sample, empty file, a threshold that makes the
// stream constant, a sample count differing from the `samples` field.
//
// Thread-safety: plain values; the functions are pure (file functions touch only their paths).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spinsc {

struct Trace {
  std::string origin;                     // file it came from (error messages, reports)
  std::optional<double> bias_current_A;   // at least one of bias_current_A and target_p is set
  std::optional<double> target_p;
  double sample_period_s = 0;
  std::optional<double> temperature_K;
  std::string note;
  int64_t length = 0;                     // number of samples
  std::vector<uint64_t> words;            // packed samples, bit t = word t/64 bit t%64, 1 = AP

  bool bit(int64_t t) const { return (words[t >> 6] >> (t & 63)) & 1; }
  int64_t count_ones() const;
  double fraction_ones() const { return length ? static_cast<double>(count_ones()) / length : 0.0; }
};

Trace parse_trace(std::string_view text, const std::string& origin);
Trace read_trace(const std::filesystem::path& path);
std::string format_trace(const Trace& trace);
void write_trace(const std::filesystem::path& path, const Trace& trace);
// The same header, then raw resistances (ohm) with the threshold that recovers the bits.
std::string format_resistance_trace(const Trace& meta, const std::vector<double>& ohms, double threshold_ohm);

// The files of a trace library: every *.trace file of `dir`, sorted by file name. Throws
// spinsc::Error naming `dir` when it is no readable directory or holds none.
std::vector<std::filesystem::path> trace_library_files(const std::filesystem::path& dir);
// A trace library: its files (trace_library_files) read in order.
std::vector<Trace> load_trace_library(const std::filesystem::path& dir);

// Validates `in` (a file, or every regular file of a directory except hidden and *.json ones,
// which hold metadata such as simulate's summary) and writes each as
// out_dir/<stem>.trace in canonical form. Nothing is written unless every input is valid.
// Returns the written paths, in input order.
std::vector<std::filesystem::path> import_traces(const std::filesystem::path& in, const std::filesystem::path& out_dir);

// Copies bits [offset, offset + length) of a packed stream into dst (tail bits zeroed).
void copy_bits(const uint64_t* src, int64_t src_length, int64_t offset, int64_t length, uint64_t* dst);

}  // namespace spinsc
