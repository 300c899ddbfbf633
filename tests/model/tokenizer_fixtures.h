// The tokenizer fixtures (tests/fixtures/tokenizer) and the helpers their cases need: hex-encoded texts,
// printable failure messages and SmolLM2's vocabulary as a TokenizerVocab.
#pragma once
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adamas/tokenizer.h"

namespace adamas::test {

inline std::string tokenizer_fixture_path(const std::string& name) {
    return std::string(ADAMAS_SOURCE_DIR) + "/tests/fixtures/tokenizer/" + name;
}

// The bytes of a fixture file; a missing fixture throws rather than reading as empty.
inline std::string read_tokenizer_fixture(const std::string& name) {
    const std::string path = tokenizer_fixture_path(name);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline nlohmann::json load_tokenizer_fixture(const std::string& name) {
    return nlohmann::json::parse(read_tokenizer_fixture(name));
}

// The fixtures store texts as hex so that any byte sequence survives JSON.
inline std::string from_hex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

// A text with its control and non-ASCII bytes escaped, for failure messages.
inline std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s)
        out += (c >= 0x20 && c < 0x7f) ? std::string(1, char(c)) : fmt::format("\\x{:02x}", c);
    return out;
}

// SmolLM2's byte-level BPE vocabulary as the GGUF declares it (smollm2_vocab.json).
inline TokenizerVocab smollm2_vocab() {
    const nlohmann::json j = load_tokenizer_fixture("smollm2_vocab.json");
    TokenizerVocab v;
    v.model = j["model"];
    v.pre = j["pre"];
    v.tokens = j["tokens"].get<std::vector<std::string>>();
    v.token_types = j["token_types"].get<std::vector<int32_t>>();
    v.merges = j["merges"].get<std::vector<std::string>>();
    v.bos = j["bos"];
    v.eos = j["eos"];
    v.add_bos = j["add_bos"];
    return v;
}

}  // namespace adamas::test
