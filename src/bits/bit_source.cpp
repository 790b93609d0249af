#include "spinsc/bit_source.hpp"

#include <map>
#include <mutex>

#include "bits/builtin_sources.hpp"
#include "spinsc/error.hpp"

namespace spinsc {
namespace {

std::mutex registry_mutex;

// The built-in sources are part of the registry from its creation, so make_bit_source("ideal")
// works without any registration call from the program.
std::map<std::string, BitSourceFactory>& registry() {
  static std::map<std::string, BitSourceFactory> factories = [] {
    std::map<std::string, BitSourceFactory> f;
    detail::add_builtin_sources(f);
    return f;
  }();
  return factories;
}

}  // namespace

void register_bit_source(const std::string& kind, BitSourceFactory factory) {
  std::lock_guard lock(registry_mutex);
  registry()[kind] = std::move(factory);
}

std::unique_ptr<BitSource> make_bit_source(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string kind(spec.substr(0, colon));
  const std::string_view argument = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  BitSourceFactory factory;
  {
    std::lock_guard lock(registry_mutex);
    auto it = registry().find(kind);
    if (it == registry().end()) {
      std::string known;
      for (auto& [k, f] : registry()) known += (known.empty() ? "" : ", ") + k;
      fail("unknown bit source '{}' (known: {})", spec, known);
    }
    factory = it->second;
  }
  return factory(argument);
}

}  // namespace spinsc
