#include "spinsc/files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <utility>

#include "spinsc/error.hpp"

namespace spinsc {

namespace fs = std::filesystem;

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// fsync that tolerates file systems which cannot sync a directory (EINVAL): nothing more can
// be done there, and the data itself was synced.
void fsync_or_fail(int fd, const fs::path& path) {
  if (::fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
    fail("cannot flush '{}' to disk: {}", path.string(), std::strerror(errno));
}

void sync_directory(const fs::path& dir) {
  const Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) fail("cannot open directory '{}' to flush it: {}", dir.string(), std::strerror(errno));
  fsync_or_fail(fd.get(), dir);
}

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create directory '{}': {}", dir.string(), ec.message());
  std::string tmpl = (dir / fmt::format(".{}.XXXXXX.tmp", path.filename().string())).string();  // fmt: GCC 12 -Wrestrict false positive on +
  Fd fd(::mkstemps(tmpl.data(), 4));
  if (fd.get() < 0) fail("cannot create a temporary file beside '{}': {}", path.string(), std::strerror(errno));
  auto give_up = [&](const char* what, int err) {
    ::close(fd.release());
    ::unlink(tmpl.c_str());
    fail("cannot {} '{}': {}", what, path.string(), std::strerror(err));
  };
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      give_up("write", errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fchmod(fd.get(), 0644) != 0) give_up("set the permissions of", errno);
  if (::fsync(fd.get()) != 0) give_up("flush", errno);
  if (::close(fd.release()) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    fail("cannot flush '{}': {}", path.string(), std::strerror(err));
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    fail("cannot rename the temporary file to '{}': {}", path.string(), std::strerror(err));
  }
  // The rename is durable only once the directory entry is on disk.
  sync_directory(dir);
}

void sync_path(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return sync_directory(path);
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail("cannot open '{}' to flush it: {}", path.string(), std::strerror(errno));
  fsync_or_fail(fd.get(), path);
}

bool names_builtin(const std::string& file_or_name, const fs::path& base_dir) {
  const fs::path path(file_or_name);
  if (file_or_name.empty() || file_or_name.find('/') != std::string::npos || path.extension() == ".json") return false;
  std::error_code ec;
  return !fs::exists(base_dir / path, ec);
}

std::vector<fs::path> regular_files_in(const fs::path& dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) fail("'{}': directory not found{}", dir.string(), ec && ec != std::errc::no_such_file_or_directory ? " (" + ec.message() + ")" : "");
  if (!fs::is_directory(st)) fail("'{}' is not a directory", dir.string());
  std::vector<fs::path> files;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    if (it->is_regular_file(entry_ec)) files.push_back(it->path());
  }
  if (ec) fail("cannot list directory '{}': {}", dir.string(), ec.message());
  return files;
}

std::string read_file(const fs::path& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) {
    if (errno == ENOENT) fail("'{}': file not found", path.string());
    fail("cannot open '{}': {}", path.string(), std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail("cannot read '{}': {}", path.string(), std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail("'{}' is a directory, expected a file", path.string());
  if (!S_ISREG(st.st_mode)) fail("'{}' is not a regular file (a device, FIFO or socket), expected a file", path.string());
  if (static_cast<uintmax_t>(st.st_size) > max_bytes)
    fail("'{}' is {} bytes, more than the {} bytes a file of this kind may hold", path.string(), st.st_size, max_bytes);
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t have = 0;
  for (;;) {
    if (have == out.size()) {
      // The file may have grown since fstat: keep reading, up to the cap.
      if (out.size() > max_bytes) fail("'{}' holds more than the {} bytes a file of this kind may hold", path.string(), max_bytes);
      out.resize(std::min(max_bytes + 1, std::max<size_t>(2 * out.size(), 4096)));
    }
    const ssize_t n = ::read(fd.get(), out.data() + have, out.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot read '{}': {}", path.string(), std::strerror(errno));
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  out.resize(have);
  if (have > max_bytes) fail("'{}' holds more than the {} bytes a file of this kind may hold", path.string(), max_bytes);
  return out;
}

}  // namespace spinsc
