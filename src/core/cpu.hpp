// Internal: the instruction sets of this CPU, for two purposes.
//
// 1. The float baseline. Every computation that decides a result (training, digital and SC
//    inference, SC noise, the binomial sampler, device physics) is compiled for one fixed
//    instruction set, SPINSC_ISA_BASELINE (x86-64-v3 by default), with -ffp-contract=off, so that
//    the same source gives the same numbers on any x86-64 CPU. A CPU that lacks part of the
//    baseline cannot run that code: cpu.cpp checks at start-up, before any static initialiser of
//    the program, and exits with a message naming the missing features instead of a SIGILL.
// 2. The integer bit kernels (bit sources, the engine's AND+popcount counts, the bench's peak
//    kernel) give the same bits on any instruction set. They are compiled in target regions for
//    AVX-512 or AVX2 and chosen at run time, once, from cpu_features(); the portable path stays.
//
// cpu.cpp is compiled for plain x86-64 and uses no C++ library templates (an inline function
// instantiated there could be merged with a copy compiled for the baseline).
//
// Thread-safety: cpu_features() is initialised once (thread-safe static) and read-only after.
#pragma once

#include <cstddef>

// Code between SPINSC_TARGET_BEGIN("features") and SPINSC_TARGET_END is compiled for those extra
// instruction-set features whatever the build's baseline (GCC: push_options + target; clang,
// which ignores GCC's target pragma: attribute push), so that the build's own -march never has
// to include them. It must only run where cpu_features() reports them.
#define SPINSC_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define SPINSC_TARGET_BEGIN(features) \
  SPINSC_PRAGMA(clang attribute push(__attribute__((target(features))), apply_to = function))
#define SPINSC_TARGET_END _Pragma("clang attribute pop")
#else
#define SPINSC_TARGET_BEGIN(features) SPINSC_PRAGMA(GCC push_options) SPINSC_PRAGMA(GCC target(features))
#define SPINSC_TARGET_END _Pragma("GCC pop_options")
#endif

namespace spinsc::detail {

// The features the bit kernels may use.
struct CpuFeatures {
  bool avx512f = false, avx512dq = false, avx512cd = false, avx512vbmi2 = false, avx512vpopcntdq = false, bmi2 = false;
  bool avx2 = false;

  // Kernel families (each also listed in its target region).
  bool avx512_ideal() const { return avx512f && avx512dq && avx512cd && bmi2; }  // ideal_source.cpp
  bool avx2_ideal() const { return avx2 && bmi2; }                              // ideal_source.cpp, without AVX-512
  bool avx512_lfsr() const { return avx512f && avx512vbmi2; }                    // lfsr_source.cpp
  bool avx512_sobol() const { return avx512f; }                                  // sobol_source.cpp
  bool avx512_popcount() const { return avx512f && avx512vpopcntdq; }            // count kernels, bench peak
};

// This CPU's features, or none when the environment variable SPINSC_BIT_KERNELS is "portable"
// (the portable paths everywhere: the same results, for tests and comparisons). Any other
// value than "portable", "auto" or unset is refused with a message at first use.
const CpuFeatures& cpu_features();

// Which kernels run: "avx512", "avx2" or "portable" per family, e.g. "ideal=avx512 lfsr=avx512
// sobol=avx512 popcount=avx512" (for logs and `spinsc bench`).
const char* bit_kernels_description();

// The instruction set the float code was compiled for (SPINSC_ISA_BASELINE).
const char* isa_baseline();

// The features of `baseline` ("x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4") that `has`
// reports missing, as names separated by ", ", into out (always terminated); returns how many
// are missing. An unknown baseline name (e.g. "native") requires nothing. Pure: has() is the
// only source of facts, so that tests can play any CPU.
int missing_baseline_features(const char* baseline, bool (*has)(const char* feature), char* out, size_t size);

}  // namespace spinsc::detail
