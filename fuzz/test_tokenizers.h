// The two tokenizers the encode and decode targets drive, built once per process from the repository's
// fixtures: SmolLM2's byte-level BPE and llama.cpp's SentencePiece test vocabulary.
#pragma once
#include <cstdint>
#include <string>

#include "adamas/gguf.h"
#include "adamas/tokenizer.h"
#include "model/tokenizer_fixtures.h"

namespace adamas::fuzz {

inline const Tokenizer& byte_level_tokenizer() {
    static const Tokenizer t = Tokenizer::from_vocab(test::smollm2_vocab());
    return t;
}

inline const Tokenizer& sentencepiece_tokenizer() {
    static const Tokenizer t = Tokenizer::from_vocab(
        vocab_from_gguf(GgufFile::open(test::tokenizer_fixture_path("ggml-vocab-llama-spm.gguf"))));
    return t;
}

// Bit 0 of the selector picks the tokenizer.
inline const Tokenizer& tokenizer_for(uint8_t selector) {
    return (selector & 1) ? sentencepiece_tokenizer() : byte_level_tokenizer();
}

}  // namespace adamas::fuzz
