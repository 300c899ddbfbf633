// Failure path of ADAMAS_ASSERT (internal invariants abort loudly with their location), and the
// escaping of file text for messages.
#include <cstdio>
#include <cstdlib>

#include "adamas/error.h"

namespace adamas {

namespace {

// Length of the valid UTF-8 sequence starting text[i] (no overlongs, surrogates or code points beyond
// U+10FFFF), or 0 when it is not one.
size_t utf8_sequence(std::string_view text, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = byte(i);
    size_t n = 0;
    unsigned char low = 0x80, high = 0xbf;  // bounds of the second byte
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, low = c == 0xe0 ? 0xa0 : 0x80, high = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, low = c == 0xf0 ? 0x90 : 0x80, high = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (i + n > text.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
    for (size_t k = 2; k < n; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
    return n;
}

}  // namespace

std::string printable(std::string_view text, size_t max_chars) {
    const std::string_view shown = text.substr(0, max_chars);
    std::string out;
    for (size_t i = 0; i < shown.size();) {
        const unsigned char c = static_cast<unsigned char>(shown[i]);
        if (c == '\\' || c == '"') {
            out += '\\';
            out += char(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += char(c);
        } else if (const size_t n = c >= 0x80 ? utf8_sequence(shown, i) : 0; n > 0) {
            out += shown.substr(i, n);
            i += n;
            continue;
        } else {
            out += fmt::format("\\x{:02x}", c);
        }
        ++i;
    }
    if (text.size() > max_chars) out += fmt::format("...({} bytes)", text.size());
    return out;
}

}  // namespace adamas

namespace adamas::detail {

void assert_failed(const char* condition, const char* file, int line) {
    std::fprintf(stderr, "adamas: internal error: %s (%s:%d)\n", condition, file, line);
    std::abort();
}

}  // namespace adamas::detail
