// Fuzz target: IDX image and label files, raw or gzip (read_idx, src/data/dataset.cpp).
//
// Input: byte 0 chooses how each file is stored (bits 0-1 the images, bits 2-3 the labels):
// 0 raw, 1 named .gz and written as given (the gzip container itself is fuzzed), 2 or 3 named
// .gz and gzip-compressed here (the IDX checks behind the decompressor are fuzzed). Bytes 1-4:
// the image file's length, little-endian (clamped to what is left); then the image file; the
// rest is the label file.
//
// read_idx takes paths on purpose: it streams from the file, checking the announced size against
// the file's before it allocates, so a lying header cannot take memory. The target writes the
// two files into a private scratch directory and runs exactly that code.
#include <zlib.h>

#include <fstream>

#include "fuzz_common.hpp"
#include "spinsc/dataset.hpp"

namespace {

namespace fs = std::filesystem;

fs::path store(std::string_view bytes, int mode, const char* name) {
  fs::path path = spinsc::fuzz::scratch_dir() / name;
  if (mode == 0) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  path += ".gz";
  if (mode == 1) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  gzFile gz = ::gzopen(path.c_str(), "wb1");
  if (!gz) std::abort();
  if (!bytes.empty() && ::gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())) <= 0) std::abort();
  if (::gzclose(gz) != Z_OK) std::abort();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  spinsc::fuzz::Input in(data, size);
  const uint8_t modes = in.byte();
  const uint32_t image_size = in.u32();
  const std::string_view images = in.bytes(image_size);
  const std::string_view labels = in.rest();
  std::error_code ec;
  for (const char* old : {"images", "images.gz", "labels", "labels.gz"}) fs::remove(spinsc::fuzz::scratch_dir() / old, ec);
  const fs::path image_path = store(images, modes & 3, "images");
  const fs::path label_path = store(labels, (modes >> 2) & 3, "labels");
  spinsc::fuzz::expect_errors([&] {
    const spinsc::Dataset d = spinsc::read_idx(image_path, label_path);
    // What the program relies on after a successful load.
    if (d.count < 1 || d.rows < 1 || d.cols < 1 || d.images.size() != static_cast<size_t>(d.count) * d.features() ||
        d.labels.size() != static_cast<size_t>(d.count))
      std::abort();
    for (uint8_t label : d.labels)
      if (label > 9) std::abort();
    const spinsc::Dataset head = d.head(1);
    if (head.count != 1 || head.images.size() != static_cast<size_t>(d.features())) std::abort();
  });
  return 0;
}
