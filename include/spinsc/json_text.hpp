// JSON text from the outside (descriptions, parameter files, cells of a run), parsed with the
// file's name in every error.
//
// nlohmann::json throws its own exception types, for syntax errors and also for numbers beyond
// double's range (1e400: out_of_range.406); they would reach the command line as crashes.
// parse_json() turns every one of them into spinsc::Error "ORIGIN: not valid JSON: ...".
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace spinsc {

// The largest JSON file read: descriptions and parameter files are a few kilobytes.
inline constexpr size_t kMaxJsonFileBytes = size_t{64} << 20;

nlohmann::json parse_json(std::string_view text, const std::string& origin);
// read_file(path, kMaxJsonFileBytes), then parse_json with the path as origin.
nlohmann::json read_json_file(const std::filesystem::path& path);

}  // namespace spinsc
