// File helpers shared by every layer: atomic writes and bounded whole-file reads.
//
// Results and models are never half-written: write_file_atomic() writes a temporary file in
// the same directory, flushes it to disk, renames it over the target and flushes the directory,
// so after a crash or power loss a reader sees the old file or the new one, never a mix or
// neither. Errors throw spinsc::Error naming the path.
//
// read_file() reads regular files only and at most `max_bytes`: a device (/dev/zero), a FIFO
// or a directory given where a file is expected is refused before anything is read, and so is
// a file larger than the cap, instead of blocking or filling the memory.
//
// Thread-safety: the functions keep no state; concurrent calls on distinct paths are safe.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace spinsc {

// The default cap of read_file(): far above any model, trace or description spinsc writes.
inline constexpr size_t kMaxFileBytes = size_t{1} << 30;

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);
std::string read_file(const std::filesystem::path& path, size_t max_bytes = kMaxFileBytes);

// The regular files (after symlinks) directly inside `dir`, in no particular order. An entry
// that cannot be examined is skipped; a directory that cannot be read (missing, not a
// directory, no permission, a symlink loop) throws spinsc::Error naming it.
std::vector<std::filesystem::path> regular_files_in(const std::filesystem::path& dir);

// Whether `file_or_name` names something built into the program (a device, a plan) rather than
// a file: a plain name (no folder, not *.json) with no file of that name in `base_dir`. The one
// rule of every option that takes a file or a built-in name, so that a file always wins.
bool names_builtin(const std::string& file_or_name, const std::filesystem::path& base_dir = {});

// fsync of a file or directory already written by someone else (e.g. an image rendered by
// gnuplot before its rename, and the directory after it). Throws spinsc::Error naming the path.
void sync_path(const std::filesystem::path& path);

}  // namespace spinsc
