// Compiled for plain x86-64 (see CMakeLists.txt): this file must run on any x86-64 CPU, to say
// clearly when the CPU lacks the float baseline. C library calls only (see cpu.hpp).
#include "core/cpu.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef SPINSC_ISA_BASELINE
#error "SPINSC_ISA_BASELINE must name the instruction set of the float code (set by CMakeLists.txt)"
#endif

namespace spinsc::detail {
namespace {

// The x86-64 psABI levels, each adding to the one before (x86-64 itself: the base every x86-64
// CPU has). Names as __builtin_cpu_supports spells them.
const char* const kV2[] = {"cmpxchg16b", "lahf_lm", "popcnt", "sse3", "ssse3", "sse4.1", "sse4.2", nullptr};
const char* const kV3[] = {"avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe", "osxsave", nullptr};
const char* const kV4[] = {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", nullptr};

// __builtin_cpu_supports takes only literals: one line per feature named above. It reports AVX
// and its successors only when the operating system saves their registers (XCR0).
bool cpu_has(const char* f) {
#define SPINSC_FEATURE(name) \
  if (std::strcmp(f, name) == 0) return __builtin_cpu_supports(name);
#if defined(__clang__)
  // clang 14's builtin does not know these names; clang builds (the fuzz preset) run where they
  // are built, and GCC builds, the released ones, check them.
#define SPINSC_GCC_FEATURE(name) \
  if (std::strcmp(f, name) == 0) return true;
#else
#define SPINSC_GCC_FEATURE(name) SPINSC_FEATURE(name)
#endif
  SPINSC_GCC_FEATURE("cmpxchg16b") SPINSC_GCC_FEATURE("lahf_lm") SPINSC_FEATURE("popcnt") SPINSC_FEATURE("sse3")
  SPINSC_FEATURE("ssse3") SPINSC_FEATURE("sse4.1") SPINSC_FEATURE("sse4.2") SPINSC_FEATURE("avx")
  SPINSC_FEATURE("avx2") SPINSC_FEATURE("bmi") SPINSC_FEATURE("bmi2") SPINSC_GCC_FEATURE("f16c")
  SPINSC_FEATURE("fma") SPINSC_GCC_FEATURE("lzcnt") SPINSC_GCC_FEATURE("movbe") SPINSC_GCC_FEATURE("osxsave")
  SPINSC_FEATURE("avx512f") SPINSC_FEATURE("avx512bw") SPINSC_FEATURE("avx512cd") SPINSC_FEATURE("avx512dq")
  SPINSC_FEATURE("avx512vl") SPINSC_FEATURE("avx512vbmi2") SPINSC_FEATURE("avx512vpopcntdq")
#undef SPINSC_GCC_FEATURE
#undef SPINSC_FEATURE
  return false;
}

CpuFeatures detect() {
  CpuFeatures f;
  const char* mode = std::getenv("SPINSC_BIT_KERNELS");
  if (mode && *mode && std::strcmp(mode, "auto") != 0) {
    if (std::strcmp(mode, "portable") == 0) return f;
    std::fprintf(stderr, "spinsc: SPINSC_BIT_KERNELS='%s' is not one of auto, portable\n", mode);
    std::exit(2);
  }
  __builtin_cpu_init();
  f.avx512f = cpu_has("avx512f");
  f.avx512dq = cpu_has("avx512dq");
  f.avx512cd = cpu_has("avx512cd");
  f.avx512vbmi2 = cpu_has("avx512vbmi2");
  f.avx512vpopcntdq = cpu_has("avx512vpopcntdq");
  f.bmi2 = cpu_has("bmi2");
  f.avx2 = cpu_has("avx2");
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

namespace {
struct Description {
  char text[96];
  Description() {
    const CpuFeatures& f = cpu_features();
    auto k = [](bool v) { return v ? "avx512" : "portable"; };
    const char* ideal = f.avx512_ideal() ? "avx512" : f.avx2_ideal() ? "avx2" : "portable";
    std::snprintf(text, sizeof text, "ideal=%s lfsr=%s sobol=%s popcount=%s", ideal, k(f.avx512_lfsr()),
                  k(f.avx512_sobol()), k(f.avx512_popcount()));
  }
};
}  // namespace

const char* bit_kernels_description() {
  static const Description description;
  return description.text;
}

const char* isa_baseline() { return SPINSC_ISA_BASELINE; }

int missing_baseline_features(const char* baseline, bool (*has)(const char*), char* out, size_t size) {
  int level = 0;
  if (std::strcmp(baseline, "x86-64-v2") == 0) level = 2;
  if (std::strcmp(baseline, "x86-64-v3") == 0) level = 3;
  if (std::strcmp(baseline, "x86-64-v4") == 0) level = 4;
  const char* const* lists[] = {kV2, kV3, kV4};
  int missing = 0;
  size_t used = 0;
  if (size) out[0] = '\0';
  for (int l = 2; l <= level; ++l)
    for (const char* const* f = lists[l - 2]; *f; ++f) {
      if (has(*f)) continue;
      const int n = std::snprintf(out + used, used < size ? size - used : 0, "%s%s", missing ? ", " : "", *f);
      if (n > 0) used += static_cast<size_t>(n);
      ++missing;
    }
  return missing;
}

}  // namespace spinsc::detail

// Runs before every other static initialiser of the program (priority 101; the libraries' own
// run earlier and are compiled for plain x86-64). The link option --undefined of CMakeLists.txt
// keeps this object in every program linked with spinsc_core.
extern "C" __attribute__((constructor(101))) void spinsc_check_isa_baseline() {
  __builtin_cpu_init();
  char missing[256];
  const int n = spinsc::detail::missing_baseline_features(SPINSC_ISA_BASELINE, spinsc::detail::cpu_has, missing, sizeof missing);
  if (n == 0) return;
  std::fprintf(stderr,
               "spinsc: this program computes with the %s instruction set (one fixed set, so that results are the same on\n"
               "every machine), but this CPU lacks %s. Rebuild with -DSPINSC_ISA_BASELINE=<a level this CPU has, e.g.\n"
               "x86-64-v2> to run here; results of such a build differ from %s results in the last bits.\n",
               SPINSC_ISA_BASELINE, missing, SPINSC_ISA_BASELINE);
  std::exit(1);
}
