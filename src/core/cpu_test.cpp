#include "core/cpu.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace spinsc::detail {
namespace {

bool has_all(const char*) { return true; }
bool lacks_avx2_fma(const char* f) { return std::strcmp(f, "avx2") != 0 && std::strcmp(f, "fma") != 0; }
bool has_nothing(const char*) { return false; }

TEST(Cpu, BaselineCheckNamesTheMissingFeatures) {
  char out[256];
  EXPECT_EQ(missing_baseline_features("x86-64-v3", has_all, out, sizeof out), 0);
  EXPECT_STREQ(out, "");
  EXPECT_EQ(missing_baseline_features("x86-64-v3", lacks_avx2_fma, out, sizeof out), 2);
  EXPECT_STREQ(out, "avx2, fma");
  // A lower level does not need them; x86-64 and unknown names (native) need nothing.
  EXPECT_EQ(missing_baseline_features("x86-64-v2", lacks_avx2_fma, out, sizeof out), 0);
  EXPECT_EQ(missing_baseline_features("x86-64", has_nothing, out, sizeof out), 0);
  EXPECT_EQ(missing_baseline_features("native", has_nothing, out, sizeof out), 0);
  // Each level includes the ones below it.
  EXPECT_EQ(missing_baseline_features("x86-64-v2", has_nothing, out, sizeof out), 7);
  EXPECT_EQ(missing_baseline_features("x86-64-v3", has_nothing, out, sizeof out), 16);
  EXPECT_EQ(missing_baseline_features("x86-64-v4", has_nothing, out, sizeof out), 21);
  EXPECT_EQ(std::string(out).rfind("cmpxchg16b, ", 0), 0u) << out;
  // A short buffer is cut, always terminated.
  char small[8];
  EXPECT_EQ(missing_baseline_features("x86-64-v4", has_nothing, small, sizeof small), 21);
  EXPECT_EQ(std::strlen(small), 7u);
}

TEST(Cpu, DescribesBaselineAndKernels) {
  // This program started, so the start-up check found the whole baseline on this CPU.
  EXPECT_NE(std::string(isa_baseline()), "");
  const std::string kernels = bit_kernels_description();
  for (const char* family : {"ideal=", "lfsr=", "sobol=", "popcount="}) EXPECT_NE(kernels.find(family), std::string::npos) << kernels;
  const bool portable = kernels.find("avx512") == std::string::npos;
  EXPECT_EQ(portable, !cpu_features().avx512f) << kernels;
}

}  // namespace
}  // namespace spinsc::detail
