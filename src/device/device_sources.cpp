#include "spinsc/device_sources.hpp"

#include "spinsc/bit_source.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/error.hpp"
#include "spinsc/smtj_source.hpp"
#include "spinsc/trace_source.hpp"

namespace spinsc {

std::shared_ptr<const SourceRegistry> standard_sources() {
  auto registry = std::make_shared<SourceRegistry>();
  registry->add("smtj", [](std::string_view argument) -> std::unique_ptr<BitSource> {
    if (argument.empty()) return std::make_unique<SmtjSource>(reference_device(), "smtj");
    const std::string path(argument);
    return std::make_unique<SmtjSource>(resolve_device(path), "smtj:" + path);
  });
  registry->add("trace", [](std::string_view argument) -> std::unique_ptr<BitSource> {
    if (argument.empty()) fail("bit source 'trace' needs a directory: trace:DIR");
    return TraceSource::open(std::string(argument));
  });
  return registry;
}

}  // namespace spinsc
