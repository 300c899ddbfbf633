// Shared by the GGUF parser and the value accessors: sizes and decoding of scalar metadata values.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "adamas/error.h"
#include "adamas/gguf.h"

namespace adamas::gguf_detail {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

constexpr uint32_t kValueTypeCount = 13;

// Bytes of one scalar of type t; 0 for string, array and unknown types.
constexpr int scalar_size(GgufValueType t) {
    switch (t) {
        case GgufValueType::u8:
        case GgufValueType::i8:
        case GgufValueType::boolean:
            return 1;
        case GgufValueType::u16:
        case GgufValueType::i16:
            return 2;
        case GgufValueType::u32:
        case GgufValueType::i32:
        case GgufValueType::f32:
            return 4;
        case GgufValueType::u64:
        case GgufValueType::i64:
        case GgufValueType::f64:
            return 8;
        default:
            return 0;
    }
}

constexpr bool is_signed(GgufValueType t) {
    return t == GgufValueType::i8 || t == GgufValueType::i16 || t == GgufValueType::i32 ||
           t == GgufValueType::i64;
}

// The scalar at p (little-endian, possibly unaligned) as 64 bits: signed integers sign-extended,
// everything else zero-extended (f32 keeps its bit pattern in the low 32 bits).
inline uint64_t scalar_bits(GgufValueType t, const uint8_t* p) {
    switch (scalar_size(t)) {
        case 1:
            return is_signed(t) ? uint64_t(int64_t(int8_t(p[0]))) : p[0];
        case 2: {
            uint16_t v;
            std::memcpy(&v, p, 2);
            return is_signed(t) ? uint64_t(int64_t(int16_t(v))) : v;
        }
        case 4: {
            uint32_t v;
            std::memcpy(&v, p, 4);
            return is_signed(t) ? uint64_t(int64_t(int32_t(v))) : v;
        }
        default: {
            uint64_t v;
            std::memcpy(&v, p, 8);
            return v;
        }
    }
}

using ::adamas::printable;

}  // namespace adamas::gguf_detail
