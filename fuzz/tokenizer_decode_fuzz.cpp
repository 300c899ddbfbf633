// Fuzzes tokenizer decode and token_piece on arbitrary ids (little-endian int32 after a selector byte
// whose bit 0 picks the tokenizer): ids outside the vocabulary must be adamas::Error, nothing else.
#include <cstdint>
#include <cstring>
#include <vector>

#include "adamas/error.h"
#include "test_tokenizers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const adamas::Tokenizer& tokenizer = adamas::fuzz::tokenizer_for(data[0]);
    std::vector<int32_t> ids((size - 1) / 4);
    if (!ids.empty()) std::memcpy(ids.data(), data + 1, ids.size() * 4);
    try {
        (void)tokenizer.decode(ids);
    } catch (const adamas::Error&) {
    }
    for (int32_t id : ids) {
        try {
            (void)tokenizer.token_piece(id);
            (void)tokenizer.token_text(id);
        } catch (const adamas::Error&) {
        }
    }
    return 0;
}
