// Internal: std::vector with 64-byte aligned storage, for the float buffers of hot elementwise
// kernels. With the default allocator their alignment depends on the heap's history, and a
// 512-bit load that straddles a cache line costs up to twice an aligned one: the same training
// step was measured 1.5x slower after an SC evaluation had reshaped the heap.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace spinsc::detail {

template <class T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, kAlign); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept { return true; }
};

template <class T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace spinsc::detail
