// The device-backed bit sources: "smtj[:device.json]" (the telegraph s-MTJ model of a device
// description; without a file, the reference device) and "trace:DIR" (replayed recordings).
//
// Thread-safety: pure function.
#pragma once

#include <memory>

#include "spinsc/bit_source.hpp"

namespace spinsc {

// Every kind of source spinsc ships: the built-in ones (ideal, lfsr, sobol) and smtj, trace.
// What the program and the Python package pass to the library.
std::shared_ptr<const SourceRegistry> standard_sources();

}  // namespace spinsc
