// Writes a TokenizerVocab as a Hugging Face tokenizer.json (the layout `tokenizers` 0.23 saves: BPE
// model with vocab and merges, added_tokens, a pre_tokenizer) plus tokenizer_config.json, for tests.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "adamas/tokenizer.h"

namespace adamas::test {

// The pre_tokenizer JSON of a pre-tokenizer name, as those models' tokenizer.json files declare it.
inline nlohmann::json hf_pre_tokenizer(const std::string& pre) {
    using nlohmann::json;
    const json byte_level = {{"type", "ByteLevel"},
                             {"add_prefix_space", false},
                             {"trim_offsets", true},
                             {"use_regex", pre == "gpt2" || pre == "smollm"}};
    if (pre == "gpt2") return byte_level;
    if (pre == "smollm")
        return {{"type", "Sequence"},
                {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level}}};
    const std::string regex =
        pre == "llama3"
            ? R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"
            : R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    const json split = {
        {"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}};
    return {{"type", "Sequence"}, {"pretokenizers", {split, byte_level}}};
}

// tokenizer.json for `v`: control tokens become special added tokens, user-defined ones non-special.
inline nlohmann::ordered_json hf_tokenizer_json(const TokenizerVocab& v, bool merges_as_pairs = true) {
    using nlohmann::ordered_json;
    // vocab as a sorted map: ordered_json's linear key lookup is quadratic over 49K tokens.
    nlohmann::json vocab = nlohmann::json::object();
    ordered_json merges = ordered_json::array(), added = ordered_json::array();
    for (size_t id = 0; id < v.tokens.size(); ++id) {
        vocab[v.tokens[id]] = id;
        const int32_t type = v.token_types.empty() ? 1 : v.token_types[id];
        if (type == 3 || type == 4)
            added.push_back({{"id", id},
                             {"content", v.tokens[id]},
                             {"single_word", false},
                             {"lstrip", false},
                             {"rstrip", false},
                             {"normalized", false},
                             {"special", type == 3}});
    }
    for (const std::string& m : v.merges) {
        const size_t space = m.find(' ', 1);
        if (merges_as_pairs)
            merges.push_back({m.substr(0, space), m.substr(space + 1)});
        else
            merges.push_back(m);
    }
    return {
        {"version", "1.0"},
        {"truncation", nullptr},
        {"padding", nullptr},
        {"added_tokens", added},
        {"normalizer", nullptr},
        {"pre_tokenizer", hf_pre_tokenizer(v.pre)},
        {"post_processor", nullptr},
        {"decoder",
         {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
        {"model",
         {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", nullptr},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", false},
          {"byte_fallback", false},
          {"ignore_merges", v.pre == "llama3"},
          {"vocab", vocab},
          {"merges", merges}}}};
}

// Writes tokenizer.json and tokenizer_config.json (bos, eos, add_bos by token text) into `dir`.
inline void write_hf_tokenizer(const TokenizerVocab& v, const std::filesystem::path& dir,
                               bool merges_as_pairs = true) {
    std::ofstream(dir / "tokenizer.json") << hf_tokenizer_json(v, merges_as_pairs).dump();
    nlohmann::ordered_json config = {{"add_bos_token", v.add_bos}};
    config["bos_token"] = v.bos >= 0 ? nlohmann::ordered_json(v.tokens[size_t(v.bos)]) : nullptr;
    config["eos_token"] =
        v.eos >= 0 ? nlohmann::ordered_json({{"content", v.tokens[size_t(v.eos)]}}) : nullptr;
    std::ofstream(dir / "tokenizer_config.json") << config.dump(2);
}

// GPT-2's byte-level spelling of one byte (printable Latin-1 stands for itself, the rest from U+0100).
inline std::string byte_level_char(int b) {
    int next = 0x100;
    for (int c = 0; c < 256; ++c) {
        const bool printable = (c >= '!' && c <= '~') || (c >= 0xa1 && c <= 0xac) || c >= 0xae;
        const int cp = printable ? c : next++;
        if (c == b) {
            std::string out;
            if (cp < 0x80) return std::string(1, char(cp));
            out += char(0xc0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3f));
            return out;
        }
    }
    return "";
}

// A small byte-level vocabulary: the 256 bytes, a few merges spelling "hello" and " world", and an
// end-of-text control token.
inline TokenizerVocab tiny_vocab() {
    TokenizerVocab v;
    v.model = "gpt2";
    v.pre = "gpt2";
    for (int b = 0; b < 256; ++b)
        v.tokens.push_back(byte_level_char(b));
    v.token_types.assign(256, 1);
    for (const char* m : {"h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"}) {
        v.merges.push_back(m);
        std::string merged = m;
        merged.erase(merged.find(' ', 1), 1);
        v.tokens.push_back(merged);
        v.token_types.push_back(1);
    }
    v.eos = int32_t(v.tokens.size());
    v.tokens.push_back("<|endoftext|>");
    v.token_types.push_back(3);
    return v;
}

}  // namespace adamas::test
