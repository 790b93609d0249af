#include "spinsc/sc_bench.hpp"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bits/aligned_words.hpp"
#include "bits/simd.hpp"
#include "bits/splitmix_avx2.hpp"
#include "core/cpu.hpp"
#include "spinsc/error.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/sc_engine.hpp"

namespace spinsc {

Network bench_network() {
  Network net = Network::zeros({784, 256, 128, 64, 10}, 11, TrainMode::Qat);
  for (size_t l = 0; l < net.layers.size(); ++l) {
    DenseLayer& layer = net.layers[l];
    layer.scale = 3.0f / std::sqrt(static_cast<float>(layer.in));
    Xoshiro256 rng(derive_seed(2024, SeedStream::BenchNetwork, {l}));
    for (float& w : layer.weight) w = static_cast<float>((2 * rng.uniform() - 1) * layer.scale);
  }
  return net;
}

Network bench_conv_network() {
  Network net = Network::zeros(parse_architecture("lenet5"), 11, TrainMode::Qat);
  for (size_t l = 0; l < net.layers.size(); ++l) {
    DenseLayer& layer = net.layers[l];
    layer.scale = 3.0f / std::sqrt(static_cast<float>(layer.in));
    Xoshiro256 rng(derive_seed(2025, SeedStream::BenchNetwork, {l}));
    for (float& w : layer.weight) w = static_cast<float>((2 * rng.uniform() - 1) * layer.scale);
  }
  return net;
}

Dataset synthetic_images(int count, uint64_t seed) {
  Dataset d;
  d.name = "synthetic";
  d.count = count;
  d.rows = d.cols = 28;
  d.images.resize(static_cast<size_t>(count) * 784);
  d.labels.resize(static_cast<size_t>(count));
  Xoshiro256 rng(seed);
  for (auto& px : d.images) px = rng.uniform() < 0.8 ? 0 : static_cast<uint8_t>(1 + rng.below(255));
  for (auto& lb : d.labels) lb = static_cast<uint8_t>(rng.below(10));
  return d;
}

namespace {

// The tight kernel: sum of popcount(a & b) over arrays that stay in L1 (n a multiple of 32).
// With AVX-512 VPOPCNTDQ (compiled for it whatever the build's baseline, run where the CPU has
// it): four independent vector accumulators, so that neither the adds' dependency chain nor
// loop overhead limits it (the compiler's own vectorisation of the plain loop reaches only ~60%
// of this); otherwise 64-bit words and hardware popcount.
SPINSC_TARGET_BEGIN("avx512f,avx512vpopcntdq")
__attribute__((noinline)) uint64_t and_popcount_avx512(const uint64_t* a, const uint64_t* b, int n) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
  auto term = [&](int i) { return _mm512_popcnt_epi64(_mm512_and_si512(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i))); };
  for (int i = 0; i < n; i += 32) {
    s0 = _mm512_add_epi64(s0, term(i));
    s1 = _mm512_add_epi64(s1, term(i + 8));
    s2 = _mm512_add_epi64(s2, term(i + 16));
    s3 = _mm512_add_epi64(s3, term(i + 24));
  }
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3)));
  uint64_t s = 0;
  for (uint64_t v : lanes) s += v;
  return s;
}
SPINSC_TARGET_END

__attribute__((noinline)) uint64_t and_popcount_portable(const uint64_t* a, const uint64_t* b, int n) {
  uint64_t s = 0;
  for (int i = 0; i < n; ++i) s += static_cast<uint64_t>(std::popcount(a[i] & b[i]));
  return s;
}

// The fastest generator the engine uses: the ideal source's SplitMix64 on AVX-512 (8 lanes,
// counter + golden per step, the finaliser's two multiplies), 4 independent vectors in flight;
// the random words are XORed together so that none is optimised away. Returns 64-bit words.
// (GCC 12 reports its own _mm512_srli_epi64 as an uninitialized use, as for simd.hpp.)
SPINSC_TARGET_BEGIN("avx512f,avx512dq")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
__attribute__((noinline)) uint64_t splitmix_words_avx512(uint64_t seed, long steps, uint64_t& sink) {
  const __m512i step = _mm512_set1_epi64(static_cast<long long>(0x9e3779b97f4a7c15ULL * 32));
  const __m512i c1 = _mm512_set1_epi64(static_cast<long long>(0xbf58476d1ce4e5b9ULL));
  const __m512i c2 = _mm512_set1_epi64(static_cast<long long>(0x94d049bb133111ebULL));
  __m512i ctr[4], acc[4];
  for (int v = 0; v < 4; ++v) {
    alignas(64) uint64_t lanes[8];
    for (int i = 0; i < 8; ++i) lanes[i] = seed + (static_cast<uint64_t>(v * 8 + i) + 1) * 0x9e3779b97f4a7c15ULL;
    ctr[v] = _mm512_load_si512(lanes);
    acc[v] = _mm512_setzero_si512();
  }
  for (long s = 0; s < steps; ++s)
    for (int v = 0; v < 4; ++v) {
      __m512i x = ctr[v];
      x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 30));
      x = _mm512_mullo_epi64(x, c1);
      x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 27));
      x = _mm512_mullo_epi64(x, c2);
      acc[v] = _mm512_xor_si512(acc[v], _mm512_xor_si512(x, _mm512_srli_epi64(x, 31)));
      ctr[v] = _mm512_add_epi64(ctr[v], step);
    }
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, _mm512_xor_si512(_mm512_xor_si512(acc[0], acc[1]), _mm512_xor_si512(acc[2], acc[3])));
  for (uint64_t w : lanes) sink ^= w;
  return static_cast<uint64_t>(steps) * 32;
}
#pragma GCC diagnostic pop
SPINSC_TARGET_END

// The same on AVX2 (4 lanes, the ideal source's AVX2 path), 4 independent vectors in flight.
SPINSC_TARGET_BEGIN("avx2")
__attribute__((noinline)) uint64_t splitmix_words_avx2(uint64_t seed, long steps, uint64_t& sink) {
  const __m256i step = _mm256_set1_epi64x(static_cast<long long>(0x9e3779b97f4a7c15ULL * 16));
  __m256i ctr[4], acc[4];
  for (int v = 0; v < 4; ++v) {
    alignas(32) uint64_t lanes[4];
    for (int i = 0; i < 4; ++i) lanes[i] = seed + (static_cast<uint64_t>(v * 4 + i) + 1) * 0x9e3779b97f4a7c15ULL;
    ctr[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
    acc[v] = _mm256_setzero_si256();
  }
  for (long s = 0; s < steps; ++s)
    for (int v = 0; v < 4; ++v) {
      acc[v] = _mm256_xor_si256(acc[v], detail::splitmix_finalise4(ctr[v]));
      ctr[v] = _mm256_add_epi64(ctr[v], step);
    }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_xor_si256(_mm256_xor_si256(acc[0], acc[1]), _mm256_xor_si256(acc[2], acc[3])));
  for (uint64_t w : lanes) sink ^= w;
  return static_cast<uint64_t>(steps) * 16;
}
SPINSC_TARGET_END

// The same on 64-bit scalars, 4 in flight (rng.hpp's mix64), the portable path.
__attribute__((noinline)) uint64_t splitmix_words_portable(uint64_t seed, long steps, uint64_t& sink) {
  uint64_t c[4], a[4] = {0, 0, 0, 0};
  for (int v = 0; v < 4; ++v) c[v] = seed + static_cast<uint64_t>(v) * 0x9e3779b97f4a7c15ULL;
  for (long s = 0; s < steps; ++s)
    for (int v = 0; v < 4; ++v) {
      a[v] ^= mix64(c[v]);
      c[v] += 4 * 0x9e3779b97f4a7c15ULL;
    }
  sink ^= a[0] ^ a[1] ^ a[2] ^ a[3];
  return static_cast<uint64_t>(steps) * 4;
}

}  // namespace

double random_bits_peak(int threads, double seconds) {
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
  // The generators this CPU runs: the wide one of the ideal source's vector path, and the
  // portable one; the floor is the faster (on some CPUs four scalars in flight beat AVX2).
  using Kernel = uint64_t (*)(uint64_t, long, uint64_t&);
  std::vector<std::pair<Kernel, long>> kernels = {{splitmix_words_portable, 1L << 16}};
  if (detail::cpu_features().avx512_ideal()) kernels.emplace_back(splitmix_words_avx512, 1L << 14);
  else if (detail::cpu_features().avx2_ideal()) kernels.emplace_back(splitmix_words_avx2, 1L << 14);
  double best = 0;
  for (const auto& entry : kernels) {
    // Plain locals, not structured bindings: OpenMP regions (clang) cannot capture those.
    const Kernel kernel = entry.first;
    const long batch = entry.second;
    std::vector<double> rate(static_cast<size_t>(nthreads), 0.0);
#pragma omp parallel num_threads(nthreads)
    {
      uint64_t sink = 0, words = 0;
      const uint64_t seed = static_cast<uint64_t>(omp_get_thread_num()) + 1;
#pragma omp barrier
      const auto start = std::chrono::steady_clock::now();
      double elapsed = 0;
      do {
        words += kernel(seed + words, batch, sink);
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      } while (elapsed < seconds / static_cast<double>(kernels.size()));
      asm volatile("" : : "r"(sink));
      rate[static_cast<size_t>(omp_get_thread_num())] = static_cast<double>(words) * 64 / elapsed;
    }
    double total = 0;
    for (double r : rate) total += r;
    best = std::max(best, total);
  }
  return best;
}

double and_popcount_peak(int threads, double seconds) {
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
  constexpr int kWords = 2048;  // 2 x 16 KiB per thread: L1-resident
  std::vector<double> rate(static_cast<size_t>(nthreads), 0.0);
#pragma omp parallel num_threads(nthreads)
  {
    // 64-byte aligned, as the engine's streams are: a vector load across two cache lines costs double.
    detail::AlignedWords abuf, bbuf;
    uint64_t* a = abuf.get(kWords);
    uint64_t* b = bbuf.get(kWords);
    Xoshiro256 rng(static_cast<uint64_t>(omp_get_thread_num()) + 1);
    for (int i = 0; i < kWords; ++i) {
      a[i] = rng();
      b[i] = rng();
    }
    uint64_t (*const kernel)(const uint64_t*, const uint64_t*, int) =
        detail::cpu_features().avx512_popcount() ? and_popcount_avx512 : and_popcount_portable;
    uint64_t sink = 0;
    long reps = 0;
#pragma omp barrier
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
      for (int r = 0; r < 256; ++r) {
        // The clobber tells the compiler the arrays may have changed, so every call is made.
        asm volatile("" : : "r"(a), "r"(b) : "memory");
        sink += kernel(a, b, kWords);
      }
      reps += 256;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds);
    asm volatile("" : : "r"(sink));
    rate[static_cast<size_t>(omp_get_thread_num())] = static_cast<double>(reps) * kWords * 64 / elapsed;
  }
  double total = 0;
  for (double r : rate) total += r;
  return total;
}

ScBenchResult run_sc_bench(const ScBenchOptions& opt) {
  if (opt.images < 1) fail("bench: images must be at least 1, got {}", opt.images);
  ScBenchResult res;
  Dataset data;
  if (opt.synthetic) {
    data = synthetic_images(opt.images, 7);
  } else {
    const auto dir = opt.data_dir.empty() ? default_data_dir() : opt.data_dir;
    data = load_dataset("mnist", dir, Split::Test).head(opt.images);
  }
  res.data = data.name;
  res.threads = opt.threads > 0 ? opt.threads : omp_get_max_threads();
  res.images = data.count;
  res.length = opt.length;
  const Network net = bench_network();
  for (const auto& layer : net.layers) res.synapses += static_cast<long long>(layer.in) * layer.out;
  ScConfig cfg;
  cfg.length = opt.length;
  cfg.seed = 1;
  const ScEngine engine(net, cfg);
  const ScAccuracy acc = engine.accuracy(data, 1, res.threads, opt.observer);
  res.seconds = acc.seconds;
  res.accuracy = acc.mean;
  res.images_per_s = data.count / acc.seconds;
  res.synapse_bit_ops_per_s = res.images_per_s * static_cast<double>(res.synapses) * opt.length;
  res.generated_fraction = acc.synapses ? static_cast<double>(acc.weight_streams) / static_cast<double>(acc.synapses) : 0.0;
  cfg.sharing = Sharing::PerLevel;
  const ScAccuracy shared = ScEngine(net, cfg).accuracy(data, 1, res.threads, opt.observer);
  res.per_level_synapse_bit_ops_per_s = data.count / shared.seconds * static_cast<double>(res.synapses) * opt.length;
  cfg.sharing = Sharing::Independent;
  cfg.exact_bits = false;  // the binomial shortcut: its own figure, never the ratio's
  const ScAccuracy fast = ScEngine(net, cfg).accuracy(data, 3, res.threads, opt.observer);
  res.shortcut_images_per_s = 3.0 * data.count / fast.seconds;
  res.shortcut_equivalent_bit_ops_per_s = res.shortcut_images_per_s * static_cast<double>(res.synapses) * opt.length;
  // The conv workload, bit level, independent and per-tap weight streams.
  const Network conv = bench_conv_network();
  cfg.exact_bits = true;
  cfg.sharing = Sharing::Independent;
  const ScAccuracy conv_ind = ScEngine(conv, cfg).accuracy(data, 1, res.threads, opt.observer);
  res.conv_synapses = conv_ind.synapses / data.count;  // real (unpadded) synapses: the engine's count
  res.conv_images_per_s = data.count / conv_ind.seconds;
  res.conv_synapse_bit_ops_per_s = res.conv_images_per_s * static_cast<double>(res.conv_synapses) * opt.length;
  cfg.sharing = Sharing::PerTap;
  const ScAccuracy conv_tap = ScEngine(conv, cfg).accuracy(data, 1, res.threads, opt.observer);
  res.conv_per_tap_images_per_s = data.count / conv_tap.seconds;
  res.conv_per_tap_synapse_bit_ops_per_s = res.conv_per_tap_images_per_s * static_cast<double>(res.conv_synapses) * opt.length;
  res.roofline_bit_ops_per_s = and_popcount_peak(res.threads, opt.peak_seconds);
  res.random_bits_per_s = random_bits_peak(res.threads, opt.peak_seconds);
  // The floor of one weight stream: 2 random bits per output bit (an exact Bernoulli(p) stream
  // by bit-serial comparison with early exit) and its AND+popcount, at the per-core peaks.
  const double per_core_bits = res.random_bits_per_s / res.threads, per_core_and = res.roofline_bit_ops_per_s / res.threads;
  res.floor_ns_per_weight_stream = (2.0 * opt.length / per_core_bits + opt.length / per_core_and) * 1e9;
  res.conv_ratio = res.conv_synapse_bit_ops_per_s / res.roofline_bit_ops_per_s;
  res.ratio = res.synapse_bit_ops_per_s / res.roofline_bit_ops_per_s;
  res.per_level_ratio = res.per_level_synapse_bit_ops_per_s / res.roofline_bit_ops_per_s;
  if (acc.weight_streams > 0) {
    res.ns_per_weight_stream = acc.seconds * res.threads / static_cast<double>(acc.weight_streams) * 1e9;
    res.ns_per_weight_stream_at_quarter_peak = res.ns_per_weight_stream * res.ratio / 0.25;
    res.weight_stream_floor_ratio = res.ns_per_weight_stream / res.floor_ns_per_weight_stream;
  }
  return res;
}

namespace {

// A shell word: the text in single quotes, each ' written '\''.
std::string shell_quote(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

std::optional<TorchShortcutPeer> run_torch_shortcut_peer(const std::filesystem::path& python, const std::filesystem::path& script,
                                                         int threads, int images, bool synthetic,
                                                         const std::filesystem::path& data_dir, std::string* why) {
  auto no = [&](std::string reason) -> std::optional<TorchShortcutPeer> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  std::error_code ec;
  if (!std::filesystem::exists(python, ec)) return no(fmt::format("{} not found", python.string()));
  if (!std::filesystem::exists(script, ec)) return no(fmt::format("{} not found", script.string()));
  // An empty --data-dir makes the script use synthetic images, as the bench does.
  const std::string command =
      fmt::format("{} {} --json --threads {} --images {} --data-dir {} 2>&1", shell_quote(python.string()), shell_quote(script.string()),
                  threads, images, shell_quote(synthetic ? std::string() : data_dir.string()));
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return no("cannot start " + python.string());
  std::string out;
  char buf[4096];
  for (size_t got; (got = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, got);
  const int status = ::pclose(pipe);
  const size_t brace = out.rfind('{');
  if (status != 0 || brace == std::string::npos) {
    const size_t tail = out.size() > 300 ? out.size() - 300 : 0;
    return no(fmt::format("{} failed (status {}): {}", script.filename().string(), status, out.substr(tail)));
  }
  try {
    const auto j = nlohmann::json::parse(out.substr(brace));
    TorchShortcutPeer peer;
    peer.images_per_s = j.at("images_per_s").get<double>();
    peer.folded_images_per_s = j.at("folded_images_per_s").get<double>();
    peer.best_images_per_s = j.at("best_images_per_s").get<double>();
    peer.torch_version = j.at("torch").get<std::string>();
    peer.data = j.at("data").get<std::string>();
    return peer;
  } catch (const std::exception& e) {
    return no(fmt::format("{} printed no result ({})", script.filename().string(), e.what()));
  }
}

}  // namespace spinsc
