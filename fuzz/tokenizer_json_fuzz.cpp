// Fuzzes the reader of a Hugging Face tokenizer.json (and the tokenizer built from what it accepts): the
// input is the file's bytes, written into a model directory of this process. Only adamas::Error may come
// out.
#include <cstdint>
#include <cstdlib>
#include <fstream>

#include "adamas/error.h"
#include "adamas/tokenizer.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto& dir = adamas::fuzz::scratch_directory();
    {
        std::ofstream out(dir / "tokenizer.json", std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
        if (!out) std::abort();
    }
    try {
        adamas::TokenizerVocab vocab = adamas::vocab_from_hf(dir.string());
        adamas::Tokenizer tokenizer = adamas::Tokenizer::from_vocab(vocab);
        auto ids = tokenizer.encode("Hello world <|im_start|> 12345\n\xff", true, true);
        (void)tokenizer.decode(ids);
    } catch (const adamas::Error&) {
    }
    return 0;
}
