// Google Benchmarks of the SC engine's parts: stream generation per source and one layer.
#include <benchmark/benchmark.h>

#include <vector>

#include "spinsc/bitstream.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/sc_bench.hpp"
#include "spinsc/sc_engine.hpp"
#include "spinsc/sources.hpp"

namespace spinsc {
namespace {

// A batch of 64 weight streams at the non-trivial K = 11 magnitudes, as the engine requests them.
void BM_GenerateBatch(benchmark::State& state, const char* spec) {
  const auto src = make_bit_source(spec);
  const int length = static_cast<int>(state.range(0)), count = 64, nw = words_for(length);
  std::vector<double> p(count);
  std::vector<uint64_t> dev(count), out(static_cast<size_t>(count) * nw);
  for (int s = 0; s < count; ++s) {
    p[static_cast<size_t>(s)] = (s % 4 + 1) / 5.0;  // 0.2 .. 0.8: the streams the engine draws (p = 0, 1 are exact)
    dev[static_cast<size_t>(s)] = static_cast<uint64_t>(s) * 97;
  }
  StreamKey key{1, 0, 0, StreamRole::Weight, 0};
  for (auto _ : state) {
    src->generate_batch(count, p.data(), dev.data(), length, key, out.data(), static_cast<size_t>(nw));
    benchmark::DoNotOptimize(out.data());
    ++key.image;
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.counters["bits/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * count * length, benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_GenerateBatch, ideal, "ideal")->Arg(100)->Arg(500);
BENCHMARK_CAPTURE(BM_GenerateBatch, lfsr, "lfsr")->Arg(100)->Arg(500);
BENCHMARK_CAPTURE(BM_GenerateBatch, sobol, "sobol")->Arg(100)->Arg(500);

// The first layer of the bench network (784 -> 256) on one synthetic image per iteration.
void BM_FirstLayer(benchmark::State& state) {
  const Network net = bench_network();
  ScConfig cfg;
  cfg.length = static_cast<int>(state.range(0));
  const ScEngine engine(net, cfg);
  const Dataset data = synthetic_images(64, 3);
  std::vector<float> x(784);
  uint64_t image = 0;
  for (auto _ : state) {
    const int i = static_cast<int>(image % 64);
    for (int f = 0; f < 784; ++f) x[static_cast<size_t>(f)] = data.pixel(i, f);
    benchmark::DoNotOptimize(engine.layer(0, x.data(), image++));
  }
  state.counters["synapse_bit_ops/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 784 * 256 * cfg.length, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FirstLayer)->Arg(100)->Arg(500)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace spinsc
