// Registers the device-backed bit sources ("smtj[:device.json]", "trace:DIR") with
// make_bit_source(). Called once by the program before any source is built; calling it again
// is harmless.
#pragma once

namespace spinsc {

void register_device_sources();

}  // namespace spinsc
