// Huge-page-backed aligned blocks (see large_block.h).
#include "core/large_block.h"

#include <sys/mman.h>

#include <algorithm>

#include "adamas/error.h"

namespace adamas {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
}  // namespace

LargeBlock allocate_large_block(size_t bytes, const char* what) {
    const size_t align = bytes >= kHugePage ? kHugePage : 64;
    const size_t rounded = std::max<size_t>(align, (bytes + align - 1) / align * align);
    void* p = std::aligned_alloc(align, rounded);
    if (!p) fail("cannot allocate {} bytes for {}", rounded, what);
#ifdef MADV_HUGEPAGE
    if (align == kHugePage) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
    return LargeBlock(static_cast<uint8_t*>(p));
}

}  // namespace adamas
