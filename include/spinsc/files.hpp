// File helpers shared by every layer: atomic writes and whole-file reads.
//
// Results and models are never half-written: write_file_atomic() writes a temporary file in
// the same directory, flushes it to disk and renames it over the target, so a reader sees the
// old file or the new one, never a mix. Errors throw spinsc::Error naming the path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace spinsc {

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);
std::string read_file(const std::filesystem::path& path);

}  // namespace spinsc
