// Fuzz target: safetensors model files (parse_model, src/nn/model_io.cpp; load_model reads the
// file and calls it). A model that loads is then used as the commands use it: the digital
// forward pass (eval) and the cost model's architecture with its weight levels (cost --model).
#include <vector>

#include "fuzz_common.hpp"
#include "spinsc/cost_model.hpp"
#include "spinsc/digital.hpp"
#include "spinsc/model_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  spinsc::Network net;
  if (!spinsc::fuzz::expect_errors([&] { net = spinsc::parse_model(bytes, "fuzz.safetensors"); })) return 0;
  spinsc::fuzz::expect_errors([&] { spinsc::cost_architecture(net, "fuzz.safetensors"); });
  std::vector<float> x(static_cast<size_t>(net.arch.front()));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 256) / 255.0f;
  const std::vector<float> y = spinsc::digital_forward(net, x.data());
  if (y.size() != static_cast<size_t>(net.arch.back())) std::abort();
  return 0;
}
