// Google Benchmarks of training speed (issue 2 item 6): seconds per 60 000-image epoch.
//
// One iteration trains one pass over 6 400 synthetic MNIST-sized images (50 minibatches of
// 128, Adam, the default schedule and augmentation); the counter s/epoch scales the wall time
// to the 469 minibatches of a full MNIST epoch. The images have MNIST's share of zero pixels
// (80%), so a first layer takes the sparse products that MNIST makes it take (nn/sparse_gemm.hpp).
// bench/torch_train_epoch.py times the same networks in PyTorch, and scripts/train_vs_torch.sh
// runs both side by side for docs/training.md (the target of issue 2: 3x faster than PyTorch).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <vector>

#include "spinsc/sc_bench.hpp"
#include "spinsc/train.hpp"

namespace spinsc {
namespace {

constexpr int kBatch = 128, kSteps = 50;
constexpr double kEpochSteps = (60000 + kBatch - 1) / kBatch;  // 469

void BM_TrainEpoch(benchmark::State& state, Architecture arch, TrainMode mode) {
  static const Dataset data = synthetic_images(kBatch * kSteps, 11);
  TrainConfig cfg;
  cfg.arch = std::move(arch);
  cfg.mode = mode;
  cfg.states = 5;
  cfg.batch = kBatch;
  cfg.epochs = 100000;  // never runs out inside the benchmark
  cfg.threads = static_cast<int>(state.range(0));
  Trainer trainer(cfg, data);
  for (auto _ : state) benchmark::DoNotOptimize(trainer.run_epoch().loss);
  // Wall seconds per iteration times epochs-per-iteration^-1: seconds per 60 000-image epoch.
  state.counters["s/epoch"] = benchmark::Counter(kSteps / kEpochSteps, benchmark::Counter::kIsIterationInvariantRate |
                                                                            benchmark::Counter::kInvert);
  state.SetItemsProcessed(state.iterations() * kBatch * kSteps);
}

// 1 thread and all of them (explicit: the automatic choice samples the machine's load first).
void thread_counts(benchmark::internal::Benchmark* b) {
  b->Arg(1);
  if (omp_get_max_threads() > 1) b->Arg(omp_get_max_threads());
}

BENCHMARK_CAPTURE(BM_TrainEpoch, mlp128_float, std::vector<int>{784, 128, 10}, TrainMode::Float)
    ->Apply(thread_counts)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TrainEpoch, mlp128_qat, std::vector<int>{784, 128, 10}, TrainMode::Qat)
    ->Apply(thread_counts)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TrainEpoch, mlp256_128_64_float, std::vector<int>{784, 256, 128, 64, 10}, TrainMode::Float)
    ->Apply(thread_counts)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TrainEpoch, mlp256_128_64_qat, std::vector<int>{784, 256, 128, 64, 10}, TrainMode::Qat)
    ->Apply(thread_counts)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TrainEpoch, lenet5_float, parse_architecture("lenet5"), TrainMode::Float)
    ->Apply(thread_counts)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TrainEpoch, lenet5_qat, parse_architecture("lenet5"), TrainMode::Qat)
    ->Apply(thread_counts)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace spinsc
