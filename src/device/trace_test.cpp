#include "spinsc/trace.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <vector>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/markov_stream.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/smtj.hpp"
#include "spinsc/trace_source.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

namespace fs = std::filesystem;

Trace synthetic(double current, double p, double rho, int64_t n, uint64_t seed) {
  Trace t;
  t.origin = "synthetic";
  t.bias_current_A = current;
  t.sample_period_s = 1e-6;
  t.length = n;
  t.words.assign((n + 63) / 64, 0);
  Xoshiro256 rng(seed);
  sample_markov_stream({p, rho, p}, n, rng, t.words.data());
  return t;
}

std::string error_of(const std::string& text, const std::string& origin = "t.txt") {
  try {
    parse_trace(text, origin);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Trace, CanonicalFormRoundTrips) {
  Trace t = synthetic(1.5e-6, 0.3, 0.5, 1000, 1);
  t.temperature_K = 310;
  t.note = "two\nlines";
  const Trace u = parse_trace(format_trace(t), "x.trace");
  EXPECT_EQ(u.length, t.length);
  EXPECT_EQ(u.words, t.words);
  EXPECT_EQ(*u.bias_current_A, 1.5e-6);
  EXPECT_EQ(u.sample_period_s, 1e-6);
  EXPECT_EQ(*u.temperature_K, 310);
  EXPECT_EQ(u.note, "two lines");
}

TEST(Trace, ThresholdConvertsResistanceAndVoltage) {
  const Trace r = parse_trace(
      "## measured\n# bias_current_A: -2e-6\n# sample_period_s: 1e-7\n# format: resistance\n# units: kohm\n"
      "# threshold: 7.5\n5.0 10.1 9.9\n5.2, 7.5\n10\n",
      "r.txt");
  ASSERT_EQ(r.length, 6);
  const bool expected[] = {false, true, true, false, false, true};  // 7.5 is not above 7.5
  for (int i = 0; i < 6; ++i) EXPECT_EQ(r.bit(i), expected[i]) << i;
  const Trace v = parse_trace(
      "# target_p: 0.3\n# sample_period_s: 1e-7\n# format: voltage\n# units: mV\n# threshold: 0\n"
      "# high_state: p\n-1 1 -2 +3\n",
      "v.txt");
  ASSERT_EQ(v.length, 4);
  EXPECT_TRUE(v.bit(0));  // below the threshold is AP when the high state is P
  EXPECT_FALSE(v.bit(1));
  EXPECT_EQ(*v.target_p, 0.3);
  // Bits may be packed into tokens of any length.
  const Trace b = parse_trace("# bias_current_A: 0\n# sample_period_s: 1\n# format: bits\n0110 1\n1\n", "b.txt");
  EXPECT_EQ(b.length, 6);
  EXPECT_EQ(b.count_ones(), 4);
}

// Every malformed case names the file and the line.
TEST(Trace, MalformedFilesGiveErrorsWithFileAndLine) {
  const std::string head = "# bias_current_A: 1e-6\n# sample_period_s: 1e-6\n# format: bits\n";
  struct Case {
    std::string text, expected;
  } cases[] = {
      {"", "t.txt:1: empty file"},
      {"\n\n", "t.txt:1: empty file"},
      {head, "t.txt:3: no samples after the header"},
      {"# bias_current_A 1e-6\n0 1\n", "t.txt:1: header line '# bias_current_A 1e-6' is not '# key: value'"},
      {"# bias: 1e-6\n", "t.txt:1: unknown header key 'bias'"},
      {"# bias_current_A:\n", "t.txt:1: header key 'bias_current_A' has no value"},
      {"# bias_current_A: 1\n# bias_current_A: 2\n", "t.txt:2: header key 'bias_current_A' repeats line 1"},
      {"# sample_period_s: 1e-6\n# format: bits\n0 1\n", "t.txt:3: the header lacks 'bias_current_A' or 'target_p'"},
      {"# bias_current_A: 1e-6\n# format: bits\n\n0 1\n", "t.txt:4: the header lacks 'sample_period_s'"},
      {"# bias_current_A: 1e-6\n# sample_period_s: 1e-6\n01\n", "t.txt:3: the header lacks 'format'"},
      {"# bias_current_A: 1uA\n# sample_period_s: 1e-6\n# format: bits\n01\n", "t.txt:1: bias_current_A '1uA' is not a number"},
      {"# target_p: 1.2\n# sample_period_s: 1e-6\n# format: bits\n01\n", "t.txt:1: target_p = 1.2 is out of range"},
      {"# target_p: 0.2\n# sample_period_s: 0\n# format: bits\n01\n", "t.txt:2: sample_period_s = 0 is out of range"},
      {"# target_p: 0.2\n# sample_period_s: 1\n# format: csv\n01\n", "t.txt:3: format 'csv' is not one of"},
      {head + "0 1 0\n1 x 0\n", "t.txt:5: sample 'x' is not a string of bits"},
      {head + "0102\n", "t.txt:4: sample '0102' is not a string of bits"},
      {head + "01\n# note: late\n", "t.txt:5: header line after the first sample"},
      {head + "# samples: 5\n0110\n", "t.txt:4: the header says 5 samples, the file has 4"},
      {head + "# samples: 4.5\n0110\n", "t.txt:4: samples '4.5' is not a whole number"},
      {head + "# samples: 1e3\n0110\n", "t.txt:4: samples '1e3' is not a whole number"},
      {head + "# threshold: 3\n01\n", "t.txt:4: a threshold means nothing for format bits"},
      {head + "# units: ohm\n01\n", "t.txt:4: unknown units 'ohm' for format bits"},
      {"# target_p: 0.5\n# sample_period_s: 1\n# format: resistance\n# units: furlong\n# threshold: 1\n1 2\n",
       "t.txt:4: unknown units 'furlong' for format resistance"},
      {"# target_p: 0.5\n# sample_period_s: 1\n# format: resistance\n# threshold: 1\n1 2\n",
       "t.txt:5: the header lacks 'units'"},
      {"# target_p: 0.5\n# sample_period_s: 1\n# format: voltage\n# units: V\n1 2\n", "t.txt:5: the header lacks 'threshold'"},
      {"# target_p: 0.5\n# sample_period_s: 1\n# format: resistance\n# units: ohm\n# threshold: 7000\n5000\n6000\n",
       "t.txt:5: threshold 7000 ohm gives a constant stream: all 2 samples are at or below it"},
      {"# target_p: 0.5\n# sample_period_s: 1\n# format: voltage\n# units: V\n# threshold: -1\n0.5\n0.6\n",
       "t.txt:5: threshold -1 V gives a constant stream: all 2 samples are above it"},
      {"# target_p: 0.5\n# sample_period_s: 1\n# format: voltage\n# units: V\n# threshold: 0\n0.5\n0.6 abc\n",
       "t.txt:7: sample 'abc' is not a number"},
      {"# target_p: 0.5\n# sample_period_s: 1\n# format: resistance\n# units: ohm\n# threshold: 5\n4\n-6\n",
       "t.txt:7: resistance sample -6 is not positive"},
      {"# target_p: 0.5\n# sample_period_s: 1\n# format: bits\n# high_state: up\n01\n", "t.txt:4: high_state 'up' is not"},
  };
  for (const auto& c : cases) {
    const std::string m = error_of(c.text);
    EXPECT_EQ(m.rfind(c.expected, 0), 0u) << "text:\n" << c.text << "\ngot: " << m;
  }
}

TEST(Trace, ImportValidatesEverythingBeforeWriting) {
  const fs::path dir = spinsc::testing::temp_dir("trace-import");
  fs::create_directories(dir / "raw");
  write_file_atomic(dir / "raw" / "a.txt",
                    "# bias_current_A: 1e-6\n# sample_period_s: 1e-6\n# format: resistance\n# units: ohm\n"
                    "# threshold: 7500\n5000 10000 10000 5000\n");
  write_file_atomic(dir / "raw" / "b.txt", "# bias_current_A: 2e-6\n# sample_period_s: 1e-6\n# format: bits\n0111\n");
  const auto written = import_traces(dir / "raw", dir / "lib");
  ASSERT_EQ(written.size(), 2u);
  const auto lib = load_trace_library(dir / "lib");
  ASSERT_EQ(lib.size(), 2u);
  EXPECT_EQ(lib[0].count_ones(), 2);
  EXPECT_EQ(lib[1].count_ones(), 3);
  EXPECT_EQ(lib[0].note, "imported from a.txt");
  write_file_atomic(dir / "raw" / "c.txt", "# bias_current_A: 2e-6\n# sample_period_s: 1e-6\n# format: bits\n01x\n");
  try {
    import_traces(dir / "raw", dir / "lib2");
    FAIL() << "a malformed input must stop the import";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("c.txt:4:"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "lib2"));
  EXPECT_THROW(load_trace_library(dir / "raw"), Error) << "no *.trace files";
}

TEST(Trace, CopyBitsMatchesBitByBit) {
  const Trace t = synthetic(0, 0.5, 0.0, 1000, 3);
  Xoshiro256 rng(4);
  for (int rep = 0; rep < 200; ++rep) {
    const int64_t length = 1 + static_cast<int64_t>(rng.below(300));
    const int64_t offset = static_cast<int64_t>(rng.below(static_cast<uint64_t>(t.length - length + 1)));
    std::vector<uint64_t> w((length + 63) / 64, ~0ULL);
    copy_bits(t.words.data(), t.length, offset, length, w.data());
    for (int64_t i = 0; i < length; ++i) ASSERT_EQ(((w[i >> 6] >> (i & 63)) & 1) != 0, t.bit(offset + i));
    EXPECT_EQ(w.back() & ~tail_mask(static_cast<int>(length)), 0u);
  }
}

// Replay picks the nearest bias point; windows at random offsets have that trace's mean
// (standard error from the trace's correlation) and are deterministic per key.
TEST(TraceSource, ReplayWindowsHaveTheRightProbability) {
  std::vector<Trace> lib = {synthetic(-1e-6, 0.2, 0.6, 200000, 1), synthetic(0, 0.5, 0.6, 200000, 2),
                            synthetic(1e-6, 0.8, 0.6, 200000, 3)};
  const TraceSource source(lib, "trace:test");
  EXPECT_EQ(source.nearest(0.1), 0u);
  EXPECT_EQ(source.nearest(0.45), 1u);
  EXPECT_EQ(source.nearest(0.99), 2u);
  const int length = 100, windows = 5000;
  for (double p : {0.15, 0.55, 0.75}) {
    const size_t i = source.nearest(p);
    const double m = lib[i].fraction_ones();
    EXPECT_EQ(source.bit_mean(p, {}), m);
    std::vector<uint64_t> w(2), again(2);
    double total = 0;
    for (int k = 0; k < windows; ++k) {
      const StreamKey key{5, static_cast<uint64_t>(k), 1, StreamRole::Input, 3};
      source.generate(p, length, key, w.data());
      source.generate(p, length, key, again.data());
      ASSERT_EQ(w, again);
      total += std::popcount(w[0]) + std::popcount(w[1]);
    }
    const double se = std::sqrt(windows * length * m * (1 - m) * source.count_variance_factor(p, length));
    EXPECT_NEAR(total, windows * length * m, 4.5 * se) << "p " << p;
  }
  std::vector<uint64_t> w(2);
  source.generate(0.0, 100, {}, w.data());
  EXPECT_EQ(w[0] | w[1], 0u);
  std::vector<uint64_t> big(words_for(300000));
  EXPECT_THROW(source.generate(0.5, 300000, {}, big.data()), Error);
}

// Every user of a source asks check_length() first: a library with a trace shorter than L is
// refused before any stream is drawn (in a worker thread, the error used to abort the program),
// whichever trace p would pick, and the error names the trace.
TEST(TraceSource, CheckLengthNamesTheShortTrace) {
  std::vector<Trace> lib = {synthetic(-1e-6, 0.2, 0.6, 5000, 1), synthetic(0, 0.5, 0.6, 80, 2)};
  lib[1].origin = "lib/short.trace";
  const TraceSource source(lib, "trace:lib");
  EXPECT_NO_THROW(source.check_length(80));
  try {
    source.check_length(81);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'lib/short.trace' has 80 samples, fewer than the stream length 81"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace spinsc
