// The tokenizer.ggml.* metadata of a GGUF file as a TokenizerVocab.
#include "adamas/error.h"
#include "adamas/gguf.h"
#include "adamas/tokenizer.h"

namespace adamas {

namespace {

// tokenizer.ggml.scores: f32 as written by llama.cpp's converters; llama.cpp also takes an i32 array.
std::vector<float> read_scores(const GgufFile& file) {
    const char* key = "tokenizer.ggml.scores";
    const GgufValue* v = file.find(key);
    if (v == nullptr) return {};
    if (v->type() == GgufValueType::array && v->element_type() == GgufValueType::i32) {
        std::vector<float> scores;
        for (int32_t s : file.get_i32_array(key))
            scores.push_back(float(s));
        return scores;
    }
    return file.get_f32_array(key);
}

}  // namespace

TokenizerVocab vocab_from_gguf(const GgufFile& file) {
    TokenizerVocab vocab;
    vocab.model = file.get_string("tokenizer.ggml.model");
    vocab.pre = file.get_string("tokenizer.ggml.pre", "");
    vocab.tokens = file.get_string_array("tokenizer.ggml.tokens");
    if (file.has("tokenizer.ggml.token_type"))
        vocab.token_types = file.get_i32_array("tokenizer.ggml.token_type");
    if (file.has("tokenizer.ggml.merges")) vocab.merges = file.get_string_array("tokenizer.ggml.merges");
    vocab.scores = read_scores(file);
    // llama.cpp's defaults for SentencePiece vocabularies that leave these keys out.
    const bool spm = vocab.model == "llama";
    auto id = [&](std::string_view key, int64_t fallback) {
        if (fallback >= int64_t(vocab.tokens.size())) fallback = -1;
        int64_t v = file.get_i64(key, fallback);
        if (v < -1 || v >= int64_t(vocab.tokens.size()))
            fail("{}: {} is {}, outside the vocabulary of {} tokens", file.path(), key, v,
                 vocab.tokens.size());
        return int32_t(v);
    };
    vocab.bos = id("tokenizer.ggml.bos_token_id", spm ? 1 : -1);
    vocab.eos = id("tokenizer.ggml.eos_token_id", spm ? 2 : -1);
    vocab.unk = id("tokenizer.ggml.unknown_token_id", spm ? 0 : -1);
    vocab.add_bos = file.get_bool("tokenizer.ggml.add_bos_token", spm);
    vocab.add_space_prefix = file.get_bool("tokenizer.ggml.add_space_prefix", spm);
    return vocab;
}

}  // namespace adamas
