#include "spinsc/dataset.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <fstream>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

namespace fs = std::filesystem;

void put_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::string idx_images(uint32_t count, uint32_t rows, uint32_t cols, uint32_t magic = 0x803) {
  std::string out;
  put_be32(out, magic);
  put_be32(out, count);
  put_be32(out, rows);
  put_be32(out, cols);
  for (uint32_t i = 0; i < count * rows * cols; ++i) out.push_back(static_cast<char>((i * 37 + 11) & 0xff));
  return out;
}

std::string idx_labels(uint32_t count, uint32_t magic = 0x801) {
  std::string out;
  put_be32(out, magic);
  put_be32(out, count);
  for (uint32_t i = 0; i < count; ++i) out.push_back(static_cast<char>((i * 7) % 10));
  return out;
}

void write_gz(const fs::path& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

// Whether text contains every one of the parts, with the text in the failure message.
::testing::AssertionResult Contains(const std::string& text, std::initializer_list<std::string> parts) {
  for (const auto& part : parts)
    if (text.find(part) == std::string::npos) return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
  return ::testing::AssertionSuccess();
}

// The message of the spinsc::Error that read_idx throws, or a failure when it does not.
std::string idx_error(const fs::path& images, const fs::path& labels) {
  try {
    read_idx(images, labels);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "read_idx accepted " << images << " + " << labels;
  return "";
}

class IdxTest : public ::testing::Test {
 protected:
  fs::path dir = testing::temp_dir("idx");
  fs::path images = dir / "img-idx3-ubyte", labels = dir / "lab-idx1-ubyte";
  void SetUp() override {
    write_file_atomic(images, idx_images(6, 3, 2));
    write_file_atomic(labels, idx_labels(6));
  }
};

TEST_F(IdxTest, ReadsRawFiles) {
  const Dataset d = read_idx(images, labels);
  EXPECT_EQ(d.count, 6);
  EXPECT_EQ(d.rows, 3);
  EXPECT_EQ(d.cols, 2);
  EXPECT_EQ(d.features(), 6);
  ASSERT_EQ(d.images.size(), 36u);
  for (uint32_t i = 0; i < 36; ++i) EXPECT_EQ(d.images[i], (i * 37 + 11) & 0xff);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(d.labels[i], (i * 7) % 10);
  EXPECT_FLOAT_EQ(d.pixel(2, 1), d.images[13] / 255.0f);
}

TEST_F(IdxTest, ReadsGzipFilesIdentically) {
  write_gz(dir / "img-idx3-ubyte.gz", idx_images(6, 3, 2));
  write_gz(dir / "lab-idx1-ubyte.gz", idx_labels(6));
  const Dataset raw = read_idx(images, labels);
  const Dataset gz = read_idx(dir / "img-idx3-ubyte.gz", dir / "lab-idx1-ubyte.gz");
  EXPECT_EQ(gz.images, raw.images);
  EXPECT_EQ(gz.labels, raw.labels);
  EXPECT_EQ(gz.count, raw.count);
}

TEST_F(IdxTest, HeadTakesThePrefixAndClamps) {
  const Dataset d = read_idx(images, labels);
  const Dataset h = d.head(2);
  EXPECT_EQ(h.count, 2);
  EXPECT_EQ(h.images, std::vector<uint8_t>(d.images.begin(), d.images.begin() + 12));
  EXPECT_EQ(h.labels, std::vector<uint8_t>(d.labels.begin(), d.labels.begin() + 2));
  EXPECT_EQ(d.head(100).count, 6);
  EXPECT_EQ(d.head(-1).count, 0);
}

TEST_F(IdxTest, RejectsBadMagic) {
  std::string bytes = idx_images(6, 3, 2);
  bytes[3] = 0x04;
  write_file_atomic(images, bytes);
  EXPECT_TRUE(Contains(idx_error(images, labels), {images.string(), "magic"}));
  // Image and label files swapped.
  const std::string msg = idx_error(labels, images);
  EXPECT_TRUE(Contains(msg, {"label file"}));
  write_file_atomic(images, "this is not an IDX file at all");
  EXPECT_TRUE(Contains(idx_error(images, labels), {"not an IDX file"}));
}

TEST_F(IdxTest, RejectsTruncatedFiles) {
  const std::string bytes = idx_images(6, 3, 2);
  write_file_atomic(images, bytes.substr(0, bytes.size() - 5));
  EXPECT_TRUE(Contains(idx_error(images, labels), {images.string(), "truncated", "6 images of 3x2 = 52 bytes, file has 47 bytes"}));
  for (size_t n : {0, 2, 9}) {  // inside the magic number and inside the header
    write_file_atomic(images, bytes.substr(0, n));
    EXPECT_TRUE(Contains(idx_error(images, labels), {"truncated"}));
  }
  write_gz(dir / "img-idx3-ubyte.gz", bytes.substr(0, bytes.size() - 1));
  EXPECT_TRUE(Contains(idx_error(dir / "img-idx3-ubyte.gz", labels), {"(uncompressed)"}));
}

TEST_F(IdxTest, RejectsTrailingBytes) {
  write_file_atomic(labels, idx_labels(6) + "xx");
  EXPECT_TRUE(Contains(idx_error(images, labels), {labels.string(), "too long"}));
}

TEST_F(IdxTest, RejectsDamagedGzip) {
  write_gz(dir / "img-idx3-ubyte.gz", idx_images(6, 3, 2));
  std::string gz = read_file(dir / "img-idx3-ubyte.gz");
  write_file_atomic(dir / "cut-idx3-ubyte.gz", gz.substr(0, gz.size() / 2));
  EXPECT_TRUE(Contains(idx_error(dir / "cut-idx3-ubyte.gz", labels), {"cut-idx3-ubyte.gz"}));
  gz[gz.size() / 2] ^= 0x5a;
  gz[gz.size() / 2 + 1] ^= 0x33;
  write_file_atomic(dir / "bad-idx3-ubyte.gz", gz);
  EXPECT_TRUE(Contains(idx_error(dir / "bad-idx3-ubyte.gz", labels), {"bad-idx3-ubyte.gz"}));
  // A .gz name on a plain file.
  write_file_atomic(dir / "plain-idx3-ubyte.gz", idx_images(6, 3, 2));
  EXPECT_TRUE(Contains(idx_error(dir / "plain-idx3-ubyte.gz", labels), {"not gzip-compressed"}));
}

TEST_F(IdxTest, RejectsBadDimensions) {
  write_file_atomic(images, idx_images(6, 0, 2));
  EXPECT_TRUE(Contains(idx_error(images, labels), {"dimension 1 = 0"}));
  write_file_atomic(images, idx_images(0, 3, 2));
  EXPECT_TRUE(Contains(idx_error(images, labels), {"0 images"}));
  // A header announcing an absurd size must fail on the header, not try to allocate it.
  std::string huge;
  put_be32(huge, 0x803);
  put_be32(huge, 1u << 30);
  put_be32(huge, 4000);
  put_be32(huge, 4000);
  write_file_atomic(images, huge);
  EXPECT_TRUE(Contains(idx_error(images, labels), {"not plausible"}));
  write_file_atomic(images, idx_images(1, 70000, 1));
  EXPECT_TRUE(Contains(idx_error(images, labels), {"out of range"}));
}

// 2^30 images of 4x4 is a plausible 16 GiB header; a short file must fail on its length,
// without the reader first allocating what the header announces.
TEST_F(IdxTest, LyingHeaderFailsBeforeAllocating) {
  std::string lying;
  put_be32(lying, 0x803);
  put_be32(lying, 1u << 30);
  put_be32(lying, 4);
  put_be32(lying, 4);
  lying += std::string(100, '\x01');
  write_file_atomic(images, lying);
  EXPECT_TRUE(Contains(idx_error(images, labels), {"truncated", "1073741824 images of 4x4 = 17179869200 bytes, file has 116 bytes"}));
  write_gz(dir / "lying-idx3-ubyte.gz", lying);
  EXPECT_TRUE(Contains(idx_error(dir / "lying-idx3-ubyte.gz", labels), {"truncated", "file has 116 bytes (uncompressed)"}));
}

TEST_F(IdxTest, RejectsCountMismatch) {
  write_file_atomic(labels, idx_labels(5));
  EXPECT_TRUE(Contains(idx_error(images, labels), {"6 images", "5 labels"}));
}

TEST_F(IdxTest, RejectsLabelOutOfRange) {
  std::string bytes = idx_labels(6);
  bytes[8 + 4] = 10;
  write_file_atomic(labels, bytes);
  EXPECT_TRUE(Contains(idx_error(images, labels), {"label 10 at index 4"}));
}

TEST_F(IdxTest, RejectsMissingFileAndDirectory) {
  EXPECT_TRUE(Contains(idx_error(dir / "nope", labels), {"not found"}));
  EXPECT_TRUE(Contains(idx_error(dir, labels), {"directory"}));
}

// Every prefix and many single-byte corruptions of a valid pair either load or throw Error:
// no crash, no other exception.
TEST_F(IdxTest, NeverCrashesOnDamagedInput) {
  const std::string good = idx_images(6, 3, 2);
  for (size_t n = 0; n < good.size(); ++n) {
    write_file_atomic(images, good.substr(0, n));
    EXPECT_THROW(read_idx(images, labels), Error) << "prefix " << n;
  }
  for (size_t pos = 0; pos < 16; ++pos) {
    for (int flip : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[pos] = static_cast<char>(bad[pos] ^ flip);
      write_file_atomic(images, bad);
      EXPECT_THROW(read_idx(images, labels), Error) << "byte " << pos << " ^ " << flip;
    }
  }
}

TEST(LoadDataset, MissingMnistSaysHowToFetch) {
  const fs::path empty = testing::temp_dir("nomnist");
  try {
    load_dataset("mnist", empty, Split::Test);
    FAIL() << "loaded MNIST from an empty folder";
  } catch (const Error& e) {
    EXPECT_TRUE(Contains(std::string(e.what()), {"t10k-images-idx3-ubyte", "spinsc data fetch"}));
  }
  EXPECT_THROW(load_dataset("cifar", empty, Split::Test), Error);
}

TEST(LoadDataset, DefaultDataDirFollowsEnvironment) {
  const char* old = std::getenv("SPINSC_DATA");
  const std::string saved = old ? old : "";
  ::setenv("SPINSC_DATA", "/some/where", 1);
  EXPECT_EQ(default_data_dir(), fs::path("/some/where"));
  ::unsetenv("SPINSC_DATA");
  EXPECT_EQ(default_data_dir(), fs::path("data"));
  if (old) ::setenv("SPINSC_DATA", saved.c_str(), 1);
}

TEST(LoadDataset, RealMnistTestSet) {
  const Dataset d = load_dataset("mnist", testing::data_dir(), Split::Test);
  EXPECT_EQ(d.name, "mnist");
  ASSERT_EQ(d.count, 10000);
  EXPECT_EQ(d.rows, 28);
  EXPECT_EQ(d.cols, 28);
  EXPECT_EQ(d.labels[0], 7);  // the well-known first test digit
  std::array<int, 10> histogram{};
  for (uint8_t l : d.labels) ++histogram[l];
  EXPECT_EQ(histogram, (std::array<int, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
}

TEST(LoadDataset, RealMnistTrainSet) {
  const Dataset d = load_dataset("mnist", testing::data_dir(), Split::Train);
  ASSERT_EQ(d.count, 60000);
  EXPECT_EQ(d.labels[0], 5);
  std::array<int, 10> histogram{};
  for (uint8_t l : d.labels) ++histogram[l];
  EXPECT_EQ(histogram, (std::array<int, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
}

TEST(LoadDataset, FashionMnistFromDebianPackage) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Debian package dataset-fashion-mnist is not installed";
  const Dataset d = load_dataset("fashion-mnist", testing::temp_dir("nofashion"), Split::Test);
  EXPECT_EQ(d.name, "fashion-mnist");
  ASSERT_EQ(d.count, 10000);
  EXPECT_EQ(d.features(), 784);
  std::array<int, 10> histogram{};
  for (uint8_t l : d.labels) ++histogram[l];
  for (int n : histogram) EXPECT_EQ(n, 1000);
}

}  // namespace
}  // namespace spinsc
