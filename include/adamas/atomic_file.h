// Writing result files so that an interrupted or failed run never leaves a half-written file and never
// clobbers an existing one: a unique temporary file in the same directory, then rename(2).
#pragma once
#include <cstddef>
#include <initializer_list>
#include <string>

namespace adamas {

struct ByteRange {
    const void* data;
    size_t size;
};

// Writes the ranges, in order, as the new contents of `path`. Throws Error naming the path on failure,
// leaving any previous file untouched and no temporary file behind.
void write_file_atomically(const std::string& path, std::initializer_list<ByteRange> parts);

}  // namespace adamas
