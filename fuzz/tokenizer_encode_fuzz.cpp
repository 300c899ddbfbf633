// Fuzzes tokenizer encode on arbitrary bytes (invalid UTF-8, special-token text, long runs) with both
// tokenizer kinds; every id must be in the vocabulary and decode must accept the result. The first byte
// selects the tokenizer (bit 0), add_bos (bit 1) and parse_special (bit 2); the rest is the text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adamas/error.h"
#include "test_tokenizers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const adamas::Tokenizer& tokenizer = adamas::fuzz::tokenizer_for(data[0]);
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        auto ids = tokenizer.encode(text, (data[0] & 2) != 0, (data[0] & 4) != 0);
        for (int32_t id : ids)
            if (id < 0 || id >= tokenizer.vocab_size()) std::abort();
        (void)tokenizer.decode(ids);
    } catch (const adamas::Error&) {
    }
    return 0;
}
