// Internal: a growable word buffer whose data is 64-byte aligned, so that AVX-512 loads and
// stores never straddle cache lines (a split store followed by a reload stalls forwarding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace spinsc::detail {

class AlignedWords {
 public:
  // At least n words, 64-byte aligned; contents are kept only while the size does not grow.
  uint64_t* get(size_t n) {
    if (raw_.size() < n + 8) raw_.resize(n + 8);
    auto addr = reinterpret_cast<uintptr_t>(raw_.data());
    return reinterpret_cast<uint64_t*>((addr + 63) & ~uintptr_t{63});
  }

 private:
  std::vector<uint64_t> raw_;
};

}  // namespace spinsc::detail
