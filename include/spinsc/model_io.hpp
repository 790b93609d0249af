// Model files: safetensors containers (SPEC §5).
//
// Layout (readable by Python's safetensors or by numpy alone): 8-byte little-endian header
// length N, N bytes of JSON header, then the raw little-endian tensor bytes. Tensors, all F32:
//   layers.<l>.weight  [out, in] (conv2d: [F, C, k, k])    layers.<l>.bias  [out]    layers.<l>.gain  [out]
// Version 1 files (format "spinsc-mlp": MLPs, widths in "arch", no layer list) are read too.
// "__metadata__" (string values, as the format requires) holds:
//   format "spinsc-net", format_version "2", layers (the architecture as JSON, network.hpp),
//   architecture (its canonical spelling), arch "784,128,10" (sizes between stages), states "5", mode "qat",
//   scales (JSON list of per-layer weight scales), training (JSON object of the settings:
//   epochs, batch, lr, optimizer, seed, dataset, ...).
// Writing is atomic (temporary file then rename). Loading validates every field and every
// tensor's dtype, shape and byte range, and throws spinsc::Error naming the file and the fault.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "spinsc/network.hpp"

namespace spinsc {

void save_model(const std::filesystem::path& path, const Network& net);
Network load_model(const std::filesystem::path& path);
// The same from the file's bytes; `origin` names them in error messages (load_model passes the
// path). load_model is this after its file checks.
Network parse_model(std::string_view bytes, const std::string& origin);

}  // namespace spinsc
