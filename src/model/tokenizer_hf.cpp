// The tokenizer of a Hugging Face model directory as a TokenizerVocab: tokenizer.json's byte-level BPE
// (model.vocab, model.merges, added_tokens), the pre-tokenizer recognised from its declared structure,
// and bos/eos/add_bos from tokenizer_config.json, config.json and the post-processor.
#include <filesystem>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "adamas/error.h"
#include "adamas/tokenizer.h"
#include "model/json_file.h"

namespace adamas {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr uint64_t kMaxJsonBytes = 256 << 20;

// The Split regexes of the Llama 3 and Qwen2 tokenizer.json files, which identify their pre-tokenizers.
constexpr std::string_view kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// A JSON file of the model directory; nullopt when an optional one is absent.
std::optional<json> read_json(const fs::path& path, bool required) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        if (required) fail("{}: is missing (the model directory needs it for its tokenizer)", path.string());
        return std::nullopt;
    }
    return read_json_object(path.string(), kMaxJsonBytes, "a tokenizer file");
}

const json* member(const json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

// A boolean option; a value of another type throws json::type_error, reported by vocab_from_hf.
bool flag(const json& object, const char* key, bool fallback) {
    const json* v = member(object, key);
    return v ? v->get<bool>() : fallback;
}

// The pre-tokenizer name TokenizerVocab::pre uses, from the pre_tokenizer's structure: GPT-2's ByteLevel
// regex alone ("gpt2"), with individual digits first (SmolLM2, "smollm"), or a Split with the Llama 3 or
// Qwen2 regex before a regex-free ByteLevel. Anything else would tokenize differently: an Error.
std::string pre_tokenizer_name(const std::string& path, const json& tokenizer) {
    const json* pre = member(tokenizer, "pre_tokenizer");
    if (!pre || !pre->is_object())
        fail("{}: has no pre_tokenizer (expected a byte-level BPE tokenizer)", path);
    std::vector<const json*> steps;
    if (const json* list = member(*pre, "pretokenizers"); list && list->is_array())  // a Sequence
        for (const json& step : *list)
            steps.push_back(&step);
    else
        steps.push_back(pre);
    auto type = [](const json* step) { return step->is_object() ? step->value("type", "") : std::string(); };
    auto byte_level = [&](const json* step, bool use_regex) {
        return type(step) == "ByteLevel" && !flag(*step, "add_prefix_space", false) &&
               flag(*step, "use_regex", true) == use_regex;
    };
    auto split_regex = [&](const json* step) -> std::string {
        if (type(step) != "Split" || step->value("behavior", "") != "Isolated" ||
            flag(*step, "invert", false))
            return "";
        const json* pattern = member(*step, "pattern");
        const json* regex = pattern && pattern->is_object() ? member(*pattern, "Regex") : nullptr;
        return regex && regex->is_string() ? regex->get<std::string>() : "";
    };
    if (steps.size() == 1 && byte_level(steps[0], true)) return "gpt2";
    if (steps.size() == 2 && type(steps[0]) == "Digits" && flag(*steps[0], "individual_digits", false) &&
        byte_level(steps[1], true))
        return "smollm";
    if (steps.size() == 2 && byte_level(steps[1], false)) {
        const std::string regex = split_regex(steps[0]);
        if (regex == kLlama3Split) return "llama3";
        if (regex == kQwen2Split) return "qwen2";
    }
    fail(
        "{}: pre_tokenizer {} is not supported (expected the byte-level pre-tokenizer of GPT-2, SmolLM2, "
        "Llama 3 or Qwen2)",
        path, json_excerpt(*pre));
}

// bos_token / eos_token of tokenizer_config.json: a string, or an object with "content".
std::optional<std::string> special_token_text(const json& config, const char* key) {
    const json* v = member(config, key);
    if (!v) return std::nullopt;
    if (v->is_string()) return v->get<std::string>();
    const json* content = v->is_object() ? member(*v, "content") : nullptr;
    if (content && content->is_string()) return content->get<std::string>();
    return std::nullopt;
}

// config.json's bos_token_id / eos_token_id: an id, or a list whose first entry is the main one.
int64_t config_token_id(const json& config, const char* key) {
    const json* v = member(config, key);
    if (v && v->is_array() && !v->empty()) v = &(*v)[0];
    return v && v->is_number_integer() ? v->get<int64_t>() : -1;
}

// Whether the post-processor puts `bos` in front of a single sequence (Llama 3 does it this way rather
// than with add_bos_token).
bool post_processor_adds(const json& tokenizer, const std::string& bos) {
    const json* post = member(tokenizer, "post_processor");
    if (!post || !post->is_object()) return false;
    std::vector<const json*> steps = {post};
    if (const json* list = member(*post, "processors"); list && list->is_array()) {  // a Sequence
        steps.clear();
        for (const json& p : *list)
            steps.push_back(&p);
    }
    for (const json* p : steps) {
        if (!p->is_object() || p->value("type", "") != "TemplateProcessing") continue;
        const json* single = member(*p, "single");
        const json* first = single && single->is_array() && !single->empty() && (*single)[0].is_object()
                                ? member((*single)[0], "SpecialToken")
                                : nullptr;
        if (first && first->is_object()) return first->value("id", "") == bos;
    }
    return false;
}

TokenizerVocab vocab_from_json(const fs::path& dir, const json& tokenizer) {
    const std::string path = (dir / "tokenizer.json").string();
    const json* model = member(tokenizer, "model");
    if (!model || !model->is_object() || model->value("type", "") != "BPE")
        fail("{}: model is not BPE (expected a byte-level BPE tokenizer)", path);
    // byte_fallback marks SentencePiece-style BPE (Llama 2, Mistral): another algorithm.
    if (flag(*model, "byte_fallback", false))
        fail(
            "{}: a BPE model with byte_fallback (SentencePiece style) is not supported (expected byte-level "
            "BPE)",
            path);
    for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (const json* v = member(*model, affix); v && !(v->is_string() && v->get<std::string>().empty()))
            fail("{}: model.{} is set (expected none in a byte-level BPE tokenizer)", path, affix);
    if (const json* normalizer = member(tokenizer, "normalizer");
        normalizer && !(normalizer->is_object() && normalizer->value("type", "") == "NFC"))
        fail("{}: normalizer {} is not supported (expected none or NFC)", path, json_excerpt(*normalizer));
    // Qwen2 declares NFC; like llama.cpp we do not normalize, which changes nothing on NFC text.

    TokenizerVocab vocab;
    vocab.model = "gpt2";
    vocab.pre = pre_tokenizer_name(path, tokenizer);

    // Ids from model.vocab and added_tokens; each id names one token, and they must run 0 .. n-1.
    std::map<int64_t, std::pair<std::string, TokenType>> by_id;
    auto place = [&](int64_t id, const std::string& text, TokenType type, const char* where) {
        if (id < 0 || id >= (int64_t(1) << 31))
            fail("{}: {} token '{}' has id {} (expected 0 to 2^31-1)", path, where, text, id);
        auto [it, added] = by_id.emplace(id, std::pair{text, type});
        if (!added && it->second.first != text)
            fail("{}: id {} is both '{}' and '{}' ({})", path, id, it->second.first, text, where);
        it->second.second = type;
    };
    const json* tokens = member(*model, "vocab");
    if (!tokens || !tokens->is_object() || tokens->empty())
        fail("{}: model.vocab is missing or empty (expected token -> id)", path);
    for (const auto& [text, id] : tokens->items()) {
        if (!id.is_number_integer())
            fail("{}: model.vocab['{}'] is {} (expected an id)", path, text, json_excerpt(id));
        place(id.get<int64_t>(), text, TokenType::normal, "model.vocab");
    }
    if (const json* added = member(tokenizer, "added_tokens")) {
        if (!added->is_array()) fail("{}: added_tokens is not a list", path);
        for (const json& t : *added) {
            const json* id = t.is_object() ? member(t, "id") : nullptr;
            const json* content = t.is_object() ? member(t, "content") : nullptr;
            if (!id || !id->is_number_integer() || !content || !content->is_string())
                fail("{}: added token {} lacks an integer id or a content string", path, json_excerpt(t));
            // Special tokens match in text only when asked (control); others always (user-defined).
            place(id->get<int64_t>(), content->get<std::string>(),
                  flag(t, "special", false) ? TokenType::control : TokenType::user_defined, "added");
        }
    }
    int64_t expected = 0;
    for (const auto& [id, entry] : by_id) {
        if (id != expected)
            fail("{}: no token has id {} (ids must run from 0 to {} without gaps)", path, expected,
                 by_id.rbegin()->first);
        vocab.tokens.push_back(entry.first);
        vocab.token_types.push_back(int32_t(entry.second));
        ++expected;
    }

    const json* merges = member(*model, "merges");
    if (merges && !merges->is_array()) fail("{}: model.merges is not a list", path);
    if (merges)
        for (const json& m : *merges) {
            // "left right", or [left, right] since tokenizers 0.20.
            if (m.is_string())
                vocab.merges.push_back(m.get<std::string>());
            else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
                vocab.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
            else
                fail("{}: merge {} is {} (expected \"left right\" or [left, right])", path,
                     vocab.merges.size(), json_excerpt(m));
        }

    // bos/eos by text from tokenizer_config.json, else by id from config.json.
    const std::optional<json> config = read_json(dir / "tokenizer_config.json", false);
    const std::optional<json> model_config = read_json(dir / "config.json", false);
    auto resolve = [&](const char* text_key, const char* id_key) -> int32_t {
        if (config)
            if (const auto text = special_token_text(*config, text_key)) {
                for (size_t id = 0; id < vocab.tokens.size(); ++id)
                    if (vocab.tokens[id] == *text) return int32_t(id);
                fail("{}: {} '{}' is not a token of {}", (dir / "tokenizer_config.json").string(), text_key,
                     *text, path);
            }
        const int64_t id = model_config ? config_token_id(*model_config, id_key) : -1;
        return id >= 0 && id < int64_t(vocab.tokens.size()) ? int32_t(id) : -1;
    };
    vocab.bos = resolve("bos_token", "bos_token_id");
    vocab.eos = resolve("eos_token", "eos_token_id");
    if (config && member(*config, "add_bos_token"))
        vocab.add_bos = flag(*config, "add_bos_token", false);
    else
        vocab.add_bos = vocab.bos >= 0 && post_processor_adds(tokenizer, vocab.tokens[size_t(vocab.bos)]);
    return vocab;
}

}  // namespace

TokenizerVocab vocab_from_hf(const std::string& directory) {
    const fs::path dir(directory);
    try {
        return vocab_from_json(dir, *read_json(dir / "tokenizer.json", true));
    } catch (const json::exception& e) {  // a value of an unexpected JSON type somewhere
        fail("{}: unexpected structure ({})", (dir / "tokenizer.json").string(), e.what());
    }
}

std::string chat_template_from_hf(const std::string& directory) {
    const std::optional<json> config = read_json(fs::path(directory) / "tokenizer_config.json", false);
    if (!config) return "";
    const json* t = member(*config, "chat_template");
    return t && t->is_string() ? t->get<std::string>() : "";
}

}  // namespace adamas
