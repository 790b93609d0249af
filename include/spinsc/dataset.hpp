// Image-classification data sets in IDX form (MNIST, Fashion-MNIST).
//
// A Dataset owns its images as bytes; pixel() gives the model input x = byte / 255 in [0, 1]
// (SPEC §1). Loading validates magic numbers, dimensions, lengths and the image/label count
// match, and throws spinsc::Error naming the file and the fault. Read-only after loading:
// safe to share between threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace spinsc {

enum class Split { Train, Test };

struct Dataset {
  std::string name;             // "mnist" or "fashion-mnist"
  int count = 0;                // number of images
  int rows = 0, cols = 0;       // image size (28 x 28)
  std::vector<uint8_t> images;  // count * rows * cols bytes, image-major
  std::vector<uint8_t> labels;  // count labels in 0..9

  int features() const { return rows * cols; }
  const uint8_t* image(int i) const { return images.data() + static_cast<size_t>(i) * features(); }
  float pixel(int i, int f) const { return image(i)[f] * (1.0f / 255.0f); }
  // The first n images (n clamped to count); used for --limit and for quick tests.
  Dataset head(int n) const;
};

// Directory holding the data: $SPINSC_DATA if set, else ./data.
std::filesystem::path default_data_dir();

// Reads one IDX image file and its label file (raw, or gzip when the name ends in .gz).
Dataset read_idx(const std::filesystem::path& images, const std::filesystem::path& labels);

// Loads a named data set ("mnist" from data_dir, "fashion-mnist" from the Debian package
// dataset-fashion-mnist or data_dir/fashion-mnist). Throws spinsc::Error naming the missing
// file and the command that provides it.
Dataset load_dataset(const std::string& name, const std::filesystem::path& data_dir, Split split);

// The image and label files load_dataset() reads for (name, data_dir, split), with the same
// errors when they are missing.
struct DatasetFiles {
  std::filesystem::path images, labels;
};
DatasetFiles dataset_files(const std::string& name, const std::filesystem::path& data_dir, Split split);

}  // namespace spinsc
