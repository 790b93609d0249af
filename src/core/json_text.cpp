#include "spinsc/json_text.hpp"

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"

namespace spinsc {

nlohmann::json parse_json(std::string_view text, const std::string& origin) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", origin, e.what());
  }
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  return parse_json(read_file(path, kMaxJsonFileBytes), path.string());
}

}  // namespace spinsc
