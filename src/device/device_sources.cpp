#include "spinsc/device_sources.hpp"

#include "spinsc/bit_source.hpp"

namespace spinsc {

void register_device_sources() {
  // The s-MTJ and trace sources register here (device layer, issue 4).
}

}  // namespace spinsc
