// Reference tokenizer dump: runs test strings through llama.cpp's public tokenizer API (llama.h) on a
// vocabulary-only GGUF and prints, per string, the token ids and what llama_detokenize makes of them, so
// that our tokenizer's encode and decode can both be compared with llama.cpp.
//
// Built by scripts/reference/build-llamacpp.sh; used by scripts/reference/make_spm_fixtures.py.
#include <llama.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

const char* const kUsage = R"(Usage: adamas-tokenize-cases -m VOCAB.gguf < CASES

Reads one case per line from stdin: `ADD_SPECIAL PARSE_SPECIAL HEX` (flags 0 or 1, the text as hex, empty
for the empty string) and writes one line per case to stdout:

  IDS DETOK DETOK_NOSPECIAL

IDS: comma-separated token ids of llama_tokenize(text, add_special, parse_special) ('-' when none).
DETOK: hex of llama_detokenize(ids, remove_special=false, unparse_special=true) ('-' when empty).
DETOK_NOSPECIAL: hex of llama_detokenize(ids, remove_special=true, unparse_special=false) ('-' when empty).
llama.cpp's log goes to stderr.
)";

std::string from_hex(const std::string& hex) {
    if (hex.size() % 2) throw std::runtime_error("odd-length hex '" + hex + "'");
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2)
        out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

std::string to_hex(const std::string& bytes) {
    if (bytes.empty()) return "-";
    std::string out;
    char buf[3];
    for (unsigned char c : bytes) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        out += buf;
    }
    return out;
}

std::vector<llama_token> tokenize(const llama_vocab* vocab, const std::string& text, bool add, bool parse) {
    std::vector<llama_token> ids(text.size() + 8);
    int32_t n =
        llama_tokenize(vocab, text.data(), int32_t(text.size()), ids.data(), int32_t(ids.size()), add, parse);
    if (n < 0) {
        ids.resize(size_t(-n));
        n = llama_tokenize(vocab, text.data(), int32_t(text.size()), ids.data(), int32_t(ids.size()), add,
                           parse);
    }
    if (n < 0) throw std::runtime_error("llama_tokenize failed");
    ids.resize(size_t(n));
    return ids;
}

std::string detokenize(const llama_vocab* vocab, const std::vector<llama_token>& ids, bool remove,
                       bool unparse) {
    std::string text(ids.size() * 16 + 16, '\0');
    int32_t n = llama_detokenize(vocab, ids.data(), int32_t(ids.size()), text.data(), int32_t(text.size()),
                                 remove, unparse);
    if (n < 0) {
        text.resize(size_t(-n));
        n = llama_detokenize(vocab, ids.data(), int32_t(ids.size()), text.data(), int32_t(text.size()),
                             remove, unparse);
    }
    if (n < 0) throw std::runtime_error("llama_detokenize failed");
    text.resize(size_t(n));
    return text;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (a == "-m" && i + 1 < argc) {
            model = argv[++i];
        } else {
            std::fprintf(stderr, "adamas-tokenize-cases: unknown argument '%s' (see --help)\n", a.c_str());
            return 2;
        }
    }
    if (model.empty()) {
        std::fputs("adamas-tokenize-cases: -m VOCAB.gguf is required (see --help)\n", stderr);
        return 2;
    }
    try {
        llama_backend_init();
        llama_model_params params = llama_model_default_params();
        params.vocab_only = true;
        llama_model* m = llama_model_load_from_file(model.c_str(), params);
        if (!m) throw std::runtime_error(model + ": llama.cpp cannot load it");
        const llama_vocab* vocab = llama_model_get_vocab(m);
        for (std::string line; std::getline(std::cin, line);) {
            int add = -1, parse = -1;
            std::string hex;
            std::istringstream fields(line);
            fields >> add >> parse >> hex;
            if ((add != 0 && add != 1) || (parse != 0 && parse != 1))
                throw std::runtime_error("bad input line '" + line + "'");
            std::vector<llama_token> ids = tokenize(vocab, from_hex(hex), add != 0, parse != 0);
            std::string list;
            for (llama_token id : ids)
                list += (list.empty() ? "" : ",") + std::to_string(id);
            std::printf("%s %s %s\n", list.empty() ? "-" : list.c_str(),
                        to_hex(detokenize(vocab, ids, false, true)).c_str(),
                        to_hex(detokenize(vocab, ids, true, false)).c_str());
        }
        llama_model_free(m);
        llama_backend_free();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "adamas-tokenize-cases: %s\n", e.what());
        return 1;
    }
    return 0;
}
