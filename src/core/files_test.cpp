// Reliability of the core helpers: errors crossing parallel regions, bounded reads of regular
// files only, JSON errors naming the file, directory listings that fail as spinsc::Error.
#include "spinsc/files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <new>
#include <string>

#include "spinsc/error.hpp"
#include "spinsc/json_text.hpp"
#include "spinsc/parallel.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

namespace fs = std::filesystem;

// The message of the spinsc::Error f throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Without ParallelErrors the throw inside the loop terminates the test program (status 134).
TEST(ParallelErrors, CarriesTheFirstErrorOutOfAParallelLoop) {
  ParallelErrors errors;
  int ran = 0;
#pragma omp parallel for num_threads(2) reduction(+ : ran)
  for (int i = 0; i < 1000; ++i)
    errors.run([&] {
      ++ran;
      if (i == 7) fail("item {} is bad", i);
    });
  EXPECT_TRUE(errors.failed());
  EXPECT_EQ(error_of([&] { errors.rethrow(); }), "item 7 is bad");
  EXPECT_LT(ran, 1000);  // the bodies not yet started when the error came are skipped

  ParallelErrors oom;
#pragma omp parallel num_threads(2)
  oom.run([] { throw std::bad_alloc(); });
  EXPECT_THROW(oom.rethrow(), std::bad_alloc);

  ParallelErrors none;
#pragma omp parallel for num_threads(2)
  for (int i = 0; i < 10; ++i) none.run([] {});
  EXPECT_FALSE(none.failed());
  EXPECT_NO_THROW(none.rethrow());
}

TEST(ReadFile, RefusesDevicesFifosDirectoriesAndOversizedFiles) {
  const fs::path dir = testing::temp_dir("read-file");
  EXPECT_TRUE(contains(error_of([] { read_file("/dev/zero"); }), "'/dev/zero' is not a regular file"));
  EXPECT_TRUE(contains(error_of([&] { read_file(dir); }), "is a directory"));
  EXPECT_TRUE(contains(error_of([&] { read_file(dir / "absent"); }), "absent': file not found"));
  // A FIFO without a writer: refused at once, not waited on.
  const fs::path fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto pending = std::async(std::launch::async, [&] { return error_of([&] { read_file(fifo); }); });
  ASSERT_EQ(pending.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "read_file blocks on a FIFO";
  EXPECT_TRUE(contains(pending.get(), "not a regular file"));
  write_file_atomic(dir / "f", std::string(100, 'x'));
  EXPECT_EQ(read_file(dir / "f", 100).size(), 100u);
  EXPECT_TRUE(contains(error_of([&] { read_file(dir / "f", 99); }), "is 100 bytes, more than the 99"));
  const std::string long_name(5000, 'a');
  EXPECT_TRUE(contains(error_of([&] { read_file(dir / long_name); }), long_name));
}

// A plain name is a built-in's unless a file of that name exists; a path or *.json never is.
TEST(NamesBuiltin, APlainNameWithoutSuchFile) {
  const fs::path dir = testing::temp_dir("names-builtin");
  EXPECT_TRUE(names_builtin("perpendicular_ns", dir));
  EXPECT_FALSE(names_builtin("perpendicular_ns.json", dir));
  EXPECT_FALSE(names_builtin("configs/perpendicular_ns", dir));
  EXPECT_FALSE(names_builtin("", dir));
  write_file_atomic(dir / "mine", "{}");
  EXPECT_FALSE(names_builtin("mine", dir));  // the file wins
}

TEST(ParseJson, NumberOverflowIsAnErrorNamingTheFile) {
  EXPECT_TRUE(contains(error_of([] { parse_json("1e400", "hw.json"); }), "hw.json: not valid JSON"));
  EXPECT_TRUE(contains(error_of([] { parse_json("{\"a\": [1, -1e999]}", "d.json"); }), "d.json: not valid JSON"));
  EXPECT_TRUE(contains(error_of([] { parse_json("{", "x.json"); }), "x.json: not valid JSON"));
  EXPECT_EQ(parse_json("{\"a\": 1e300}", "ok.json")["a"].get<double>(), 1e300);
  const fs::path dir = testing::temp_dir("json-file");
  EXPECT_TRUE(contains(error_of([&] { read_json_file(dir); }), "is a directory"));
}

TEST(RegularFilesIn, PathProblemsAreErrorsNamingThePath) {
  const fs::path dir = testing::temp_dir("list-dir");
  write_file_atomic(dir / "a.trace", "x");
  fs::create_directory(dir / "sub");
  const auto files = regular_files_in(dir);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename(), "a.trace");
  EXPECT_TRUE(contains(error_of([&] { regular_files_in(dir / "a.trace"); }), "is not a directory"));
  EXPECT_TRUE(contains(error_of([&] { regular_files_in(dir / "none"); }), "directory not found"));
  fs::create_directory_symlink("loop", dir / "loop");
  EXPECT_TRUE(contains(error_of([&] { regular_files_in(dir / "loop"); }), "loop"));
}

TEST(WriteFileAtomic, FailuresNameThePathAndLeaveNoTemporaryFile) {
  const fs::path dir = testing::temp_dir("atomic");
  write_file_atomic(dir / "blocker", "a file where a folder is expected");
  EXPECT_TRUE(contains(error_of([&] { write_file_atomic(dir / "blocker" / "x.json", "{}"); }), "blocker"));
  // A directory in the target's place: the rename fails, the temporary file is removed.
  fs::create_directory(dir / "target");
  EXPECT_TRUE(contains(error_of([&] { write_file_atomic(dir / "target", "{}"); }), "target"));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 2);
  write_file_atomic(dir / "ok", "text");
  EXPECT_EQ(read_file(dir / "ok"), "text");
  EXPECT_NO_THROW(sync_path(dir));
  EXPECT_NO_THROW(sync_path(dir / "ok"));
}

}  // namespace
}  // namespace spinsc
