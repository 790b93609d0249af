#include "spinsc/dataset.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "spinsc/error.hpp"

namespace spinsc {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kImageMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelMagic = 0x00000801;  // unsigned bytes, 1 dimension
constexpr uint32_t kMaxSide = 4096;
// Far above any image set this project reads; it keeps a damaged header from asking for
// terabytes before the length check can say the file is too short.
constexpr uint64_t kMaxBytes = uint64_t{1} << 34;

bool is_gzip_name(const fs::path& path) { return path.extension() == ".gz"; }

// Sequential reader over a raw or gzip-compressed file, chosen by the .gz extension.
class ByteReader {
 public:
  explicit ByteReader(const fs::path& path) : path_(path), gz_(is_gzip_name(path)) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) fail("'{}': file not found", path.string());
    if (fs::is_directory(status)) fail("'{}': is a directory, expected an IDX file", path.string());
    // A device or FIFO would be read without end or block: only regular files are data.
    if (!fs::is_regular_file(status)) fail("'{}': is not a regular file (a device, FIFO or socket), expected an IDX file", path.string());
    if (gz_) {
      gz_file_ = ::gzopen(path.c_str(), "rb");
      if (!gz_file_) fail("'{}': cannot open: {}", path.string(), std::strerror(errno));
      ::gzbuffer(gz_file_, 1 << 17);
      // zlib would silently pass an uncompressed file through; a .gz name promises gzip.
      if (::gzdirect(gz_file_)) {
        ::gzclose(gz_file_);
        gz_file_ = nullptr;
        not_gzip();
      }
    } else {
      file_ = std::fopen(path.c_str(), "rb");
      if (!file_) fail("'{}': cannot open: {}", path.string(), std::strerror(errno));
    }
  }
  ~ByteReader() {
    if (gz_file_) ::gzclose(gz_file_);
    if (file_) std::fclose(file_);
  }
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  // Reads up to n bytes into out; returns how many were read (fewer only at end of file).
  size_t read(uint8_t* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      const size_t want = std::min<size_t>(n - done, size_t{1} << 30);
      size_t got = 0;
      if (gz_) {
        const int r = ::gzread(gz_file_, out + done, static_cast<unsigned>(want));
        if (r < 0) gz_fail();
        got = static_cast<size_t>(r);
        if (got == 0) check_gz_clean_end();
      } else {
        got = std::fread(out + done, 1, want, file_);
        if (got < want && std::ferror(file_)) fail("'{}': read error: {}", path_.string(), std::strerror(errno));
      }
      if (got == 0) break;
      done += got;
    }
    return done;
  }

  // Bytes left after the current position (for the error message on an over-long file);
  // reads the rest of a gzip stream, so call it only on the error path.
  uint64_t remaining() {
    if (!gz_) {
      const long pos = std::ftell(file_);
      std::error_code ec;
      const uintmax_t size = fs::file_size(path_, ec);
      return ec || pos < 0 ? 0 : size - static_cast<uint64_t>(pos);
    }
    // Counting stops at 1 GiB so that a decompression bomb cannot keep us busy.
    uint64_t total = 0;
    std::vector<uint8_t> buf(1 << 16);
    for (size_t got; total < (uint64_t{1} << 30) && (got = read(buf.data(), buf.size())) > 0;) total += got;
    return total;
  }

  // Size of a raw file on disk (for the length check before anything is allocated).
  uint64_t raw_size() const {
    std::error_code ec;
    const uintmax_t size = fs::file_size(path_, ec);
    if (ec) fail("'{}': cannot read its size: {}", path_.string(), ec.message());
    return size;
  }

  bool gz() const { return gz_; }

 private:
  [[noreturn]] void gz_fail() {
    int code = 0;
    const char* msg = ::gzerror(gz_file_, &code);
    fail("'{}': damaged gzip data: {}", path_.string(), msg ? msg : "unknown zlib error");
  }
  // gzread() reports a stream cut short as end of data with a pending Z_BUF_ERROR.
  void check_gz_clean_end() {
    int code = 0;
    const char* msg = ::gzerror(gz_file_, &code);
    if (code != Z_OK && code != Z_STREAM_END)
      fail("'{}': damaged gzip data: {}", path_.string(), msg ? msg : "unknown zlib error");
  }
  [[noreturn]] void not_gzip() { fail("'{}': the name ends in .gz but the file is not gzip-compressed", path_.string()); }

  fs::path path_;
  bool gz_;
  gzFile gz_file_ = nullptr;
  std::FILE* file_ = nullptr;
};

uint32_t big_endian(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string describe_magic(uint32_t magic) {
  if (magic == kImageMagic) return "an IDX image file";
  if (magic == kLabelMagic) return "an IDX label file";
  if ((magic >> 16) == 0 && (magic & 0xff) >= 1 && (magic & 0xff) <= 4)
    return fmt::format("an IDX file of type 0x{:02x} with {} dimensions", (magic >> 8) & 0xff, magic & 0xff);
  return "not an IDX file";
}

// Reads the header (magic + dims) and exactly the payload it announces; fails on any mismatch.
struct IdxContent {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> payload;
};

IdxContent read_idx_file(const fs::path& path, uint32_t magic, const char* what) {
  ByteReader in(path);
  const int ndims = static_cast<int>(magic & 0xff);
  const size_t header_size = 4 + 4 * static_cast<size_t>(ndims);
  uint8_t header[16] = {};
  const size_t got = in.read(header, header_size);
  const std::string size_note = in.gz() ? " (uncompressed)" : "";
  if (got < 4) fail("'{}': truncated: {} bytes{}, too short for an IDX header", path.string(), got, size_note);
  const uint32_t found = big_endian(header);
  if (found != magic)
    fail("'{}': bad magic number 0x{:08x} ({}), expected 0x{:08x} (an IDX {} file)", path.string(), found, describe_magic(found),
         magic, what);
  if (got < header_size)
    fail("'{}': truncated: {} bytes{}, the IDX header needs {}", path.string(), got, size_note, header_size);

  IdxContent content;
  uint64_t payload_size = 1;
  for (int d = 0; d < ndims; ++d) {
    const uint32_t v = big_endian(header + 4 + 4 * d);
    content.dims.push_back(v);
    payload_size *= v;
  }
  if (content.dims[0] == 0) fail("'{}': header says 0 {}s: the file holds no data", path.string(), what);
  if (content.dims[0] > (1u << 30)) fail("'{}': header count {} is not plausible", path.string(), content.dims[0]);
  for (int d = 1; d < ndims; ++d)
    if (content.dims[d] == 0 || content.dims[d] > kMaxSide)
      fail("'{}': image dimension {} = {} is out of range (1..{})", path.string(), d, content.dims[d], kMaxSide);
  if (payload_size > kMaxBytes) fail("'{}': header announces {} bytes of data, which is not plausible", path.string(), payload_size);

  const std::string shape = ndims == 3 ? fmt::format("{} images of {}x{}", content.dims[0], content.dims[1], content.dims[2])
                                       : fmt::format("{} labels", content.dims[0]);
  const uint64_t expected = header_size + payload_size;
  if (!in.gz()) {
    const uint64_t actual = in.raw_size();
    if (actual < expected) fail("'{}': truncated: header says {} = {} bytes, file has {} bytes", path.string(), shape, expected, actual);
    if (actual > expected) fail("'{}': too long: header says {} = {} bytes, file has {} bytes", path.string(), shape, expected, actual);
  }
  // Chunked, so that a gzip file whose header lies is caught before all its memory is taken.
  if (!in.gz()) content.payload.reserve(payload_size);
  size_t body = 0;
  while (body < payload_size) {
    const size_t chunk = std::min<uint64_t>(payload_size - body, size_t{1} << 24);
    content.payload.resize(body + chunk);
    const size_t got = in.read(content.payload.data() + body, chunk);
    body += got;
    if (got < chunk) break;
  }
  content.payload.resize(body);
  if (body < payload_size)
    fail("'{}': truncated: header says {} = {} bytes, file has {} bytes{}", path.string(), shape, header_size + payload_size,
         header_size + body, size_note);
  const uint64_t extra = in.remaining();
  if (extra > 0)
    fail("'{}': too long: header says {} = {} bytes, file has {} bytes{}", path.string(), shape, header_size + payload_size,
         header_size + payload_size + extra, size_note);
  return content;
}

}  // namespace

Dataset Dataset::head(int n) const {
  Dataset out;
  out.name = name;
  out.rows = rows;
  out.cols = cols;
  out.count = std::clamp(n, 0, count);
  out.images.assign(images.begin(), images.begin() + static_cast<ptrdiff_t>(out.count) * features());
  out.labels.assign(labels.begin(), labels.begin() + out.count);
  return out;
}

fs::path default_data_dir() {
  const char* env = std::getenv("SPINSC_DATA");
  if (env && *env) return env;
  return "data";
}

Dataset read_idx(const fs::path& images, const fs::path& labels) {
  IdxContent img = read_idx_file(images, kImageMagic, "image");
  IdxContent lab = read_idx_file(labels, kLabelMagic, "label");
  if (img.dims[0] != lab.dims[0])
    fail("'{}' has {} images but '{}' has {} labels", images.string(), img.dims[0], labels.string(), lab.dims[0]);
  for (size_t i = 0; i < lab.payload.size(); ++i)
    if (lab.payload[i] > 9) fail("'{}': label {} at index {} is not a class 0..9", labels.string(), lab.payload[i], i);

  Dataset data;
  data.name = images.filename().string();
  data.count = static_cast<int>(img.dims[0]);
  data.rows = static_cast<int>(img.dims[1]);
  data.cols = static_cast<int>(img.dims[2]);
  data.images = std::move(img.payload);
  data.labels = std::move(lab.payload);
  return data;
}

namespace {

const char* split_prefix(Split split) { return split == Split::Train ? "train" : "t10k"; }

// The first of the candidate names that exists in dir, or an empty path.
fs::path first_existing(const fs::path& dir, std::initializer_list<std::string> names) {
  std::error_code ec;
  for (const auto& name : names)
    if (fs::exists(dir / name, ec)) return dir / name;
  return {};
}

}  // namespace

DatasetFiles dataset_files(const std::string& name, const fs::path& data_dir, Split split) {
  const std::string prefix = split_prefix(split);
  const std::string images_name = prefix + "-images-idx3-ubyte", labels_name = prefix + "-labels-idx1-ubyte";
  if (name == "mnist") {
    for (const auto& file : {images_name, labels_name}) {
      std::error_code ec;
      if (!fs::exists(data_dir / file, ec))
        fail("MNIST file '{}' is missing: run `spinsc data fetch --data-dir {}` to download it", (data_dir / file).string(),
             data_dir.string());
    }
    return {data_dir / images_name, data_dir / labels_name};
  }
  if (name == "fashion-mnist") {
    // A copy under the data folder wins over the system package, so a user can pin one.
    const fs::path system_dir = "/usr/share/datasets/fashion-mnist";
    for (const fs::path& dir : {data_dir / "fashion-mnist", system_dir}) {
      DatasetFiles files{first_existing(dir, {images_name, images_name + ".gz"}), first_existing(dir, {labels_name, labels_name + ".gz"})};
      if (!files.images.empty() && !files.labels.empty()) return files;
    }
    fail("Fashion-MNIST files '{}.gz' and '{}.gz' are missing (looked in '{}' and '{}'): install the Debian package "
         "dataset-fashion-mnist (apt-get install dataset-fashion-mnist)",
         images_name, labels_name, (data_dir / "fashion-mnist").string(), system_dir.string());
  }
  fail("unknown data set '{}' (mnist or fashion-mnist)", name);
}

Dataset load_dataset(const std::string& name, const fs::path& data_dir, Split split) {
  const DatasetFiles files = dataset_files(name, data_dir, split);
  Dataset data = read_idx(files.images, files.labels);
  data.name = name;
  return data;
}

}  // namespace spinsc
