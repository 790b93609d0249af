// Internal: the factories of the built-in sources, installed when the registry is created.
#pragma once

#include <map>
#include <string>

#include "spinsc/bit_source.hpp"

namespace spinsc::detail {

void add_builtin_sources(std::map<std::string, BitSourceFactory>& factories);

}  // namespace spinsc::detail
