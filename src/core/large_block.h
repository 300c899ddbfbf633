// Large aligned allocations for data streamed on every decode step (KV cache, packed weights): from
// 2 MiB up they are aligned to and advised onto transparent huge pages, because a 4 KiB page walk every
// few rows (and hardware prefetch stopping at every 4 KiB boundary) costs bandwidth.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace adamas {

struct LargeBlockFree {
    void operator()(void* p) const { std::free(p); }
};
using LargeBlock = std::unique_ptr<uint8_t, LargeBlockFree>;

// At least `bytes` (64-byte aligned; huge-page aligned and advised from 2 MiB). Pages never touched
// cost no memory. Error naming `what` when the allocation fails.
LargeBlock allocate_large_block(size_t bytes, const char* what);

}  // namespace adamas
