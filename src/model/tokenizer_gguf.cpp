// The tokenizer.ggml.* metadata of a GGUF file as a TokenizerVocab.
#include "adamas/error.h"
#include "adamas/gguf.h"
#include "adamas/tokenizer.h"

namespace adamas {

TokenizerVocab vocab_from_gguf(const GgufFile& file) {
    TokenizerVocab vocab;
    vocab.model = file.get_string("tokenizer.ggml.model");
    vocab.pre = file.get_string("tokenizer.ggml.pre", "");
    vocab.tokens = file.get_string_array("tokenizer.ggml.tokens");
    if (file.has("tokenizer.ggml.token_type"))
        vocab.token_types = file.get_i32_array("tokenizer.ggml.token_type");
    if (file.has("tokenizer.ggml.merges")) vocab.merges = file.get_string_array("tokenizer.ggml.merges");
    auto id = [&](std::string_view key) {
        int64_t v = file.get_i64(key, -1);
        if (v < -1 || v >= int64_t(vocab.tokens.size()))
            fail("{}: {} is {}, outside the vocabulary of {} tokens", file.path(), key, v,
                 vocab.tokens.size());
        return int32_t(v);
    };
    vocab.bos = id("tokenizer.ggml.bos_token_id");
    vocab.eos = id("tokenizer.ggml.eos_token_id");
    vocab.add_bos = file.get_bool("tokenizer.ggml.add_bos_token", false);
    return vocab;
}

}  // namespace adamas
