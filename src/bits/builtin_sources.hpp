// Internal: the factories of the built-in sources, which every SourceRegistry starts with.
#pragma once

#include "spinsc/bit_source.hpp"

namespace spinsc::detail {

void add_builtin_sources(SourceRegistry& registry);

}  // namespace spinsc::detail
