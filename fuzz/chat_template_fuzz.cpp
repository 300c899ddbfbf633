// Fuzzes chat-template handling: format detection on an arbitrary template, prompt rendering of arbitrary
// user and system texts in every format, and the end-of-turn lookup in both tokenizers. The input is
// TEMPLATE \0 USER \0 SYSTEM (missing parts are empty). These functions have no error path: nothing may
// come out of them.
#include <cstdint>
#include <string_view>

#include "adamas/chat_template.h"
#include "test_tokenizers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    std::string_view parts[3];
    for (auto& part : parts) {
        size_t end = rest.find('\0');
        part = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    }
    if (auto detected = adamas::detect_chat_format(parts[0])) (void)adamas::chat_format_name(*detected);
    for (int f = 0; f <= int(adamas::ChatFormat::mistral_v7_tekken); ++f) {
        auto format = adamas::ChatFormat(f);
        (void)adamas::format_chat_prompt(format, parts[1], parts[2]);
        (void)adamas::chat_end_of_turn_id(adamas::fuzz::byte_level_tokenizer(), format);
        (void)adamas::chat_end_of_turn_id(adamas::fuzz::sentencepiece_tokenizer(), format);
    }
    return 0;
}
