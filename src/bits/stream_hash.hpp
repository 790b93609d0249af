// Internal: the per-stream hash shared by the built-in sources.
#pragma once

#include <cstdint>

#include "spinsc/bit_source.hpp"
#include "spinsc/rng.hpp"

namespace spinsc::detail {

inline constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// Hash of (seed, image, layer, role): shared by every device of one batch, computed once.
inline uint64_t stream_prefix(const StreamKey& key) {
  return derive_seed(key.seed, SeedStream::BitStream, {key.image, key.layer, static_cast<uint64_t>(key.role)});
}
// Hash of the whole key from its prefix; distinct devices give distinct hashes (mix64 and the
// odd multiplier are bijections).
inline uint64_t stream_hash(uint64_t prefix, uint64_t device) { return mix64(prefix ^ (device * 0xd1b54a32d192ed03ULL)); }
inline uint64_t stream_hash(const StreamKey& key) { return stream_hash(stream_prefix(key), key.device); }

}  // namespace spinsc::detail
