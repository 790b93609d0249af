#include "spinsc/bit_source.hpp"

#include "bits/builtin_sources.hpp"
#include "spinsc/error.hpp"

namespace spinsc {

SourceRegistry::SourceRegistry() { detail::add_builtin_sources(*this); }

void SourceRegistry::add(const std::string& kind, BitSourceFactory factory) { factories_[kind] = std::move(factory); }

std::unique_ptr<BitSource> SourceRegistry::make(std::string_view spec) const {
  const size_t colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view argument = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  const auto it = factories_.find(kind);
  if (it == factories_.end()) {
    std::string known;
    for (const std::string& k : kinds()) known += (known.empty() ? "" : ", ") + k;
    fail("unknown bit source '{}' (known: {})", spec, known);
  }
  return it->second(argument);
}

std::vector<std::string> SourceRegistry::kinds() const {
  std::vector<std::string> k;
  for (const auto& [kind, factory] : factories_) k.push_back(kind);
  return k;
}

std::shared_ptr<const SourceRegistry> builtin_sources() {
  static const auto registry = std::make_shared<const SourceRegistry>();
  return registry;
}

std::unique_ptr<BitSource> make_bit_source(std::string_view spec) { return builtin_sources()->make(spec); }

}  // namespace spinsc
