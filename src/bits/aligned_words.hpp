// Internal: a growable word buffer whose data is 64-byte aligned, so that AVX-512 loads and
// stores never straddle cache lines (a split store followed by a reload stalls forwarding).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/aligned_vector.hpp"

namespace spinsc::detail {

class AlignedWords {
 public:
  // At least n words, 64-byte aligned; contents are kept only while the size does not grow.
  uint64_t* get(size_t n) {
    if (words_.size() < n) words_.resize(n);
    return words_.data();
  }

 private:
  AlignedVector<uint64_t> words_;
};

}  // namespace spinsc::detail
