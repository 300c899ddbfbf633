// Fuzzes the reader of a Hugging Face config.json (architecture, sizes, RoPE scaling). Only
// adamas::Error may come out.
#include <cstdint>

#include "adamas/error.h"
#include "adamas/llama.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    adamas::fuzz::MemoryFile input(data, size);
    try {
        (void)adamas::LlamaConfig::from_hf_config(input.path());
    } catch (const adamas::Error&) {
    }
    return 0;
}
