// Writes the seed corpus of every fuzz target (fuzz/corpus/<target>/) with the test suites' writers of
// small valid files: run `build/fuzz/fuzz/fuzz_seeds fuzz/corpus` after changing a writer.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "adamas/npy.h"
#include "model/gguf_writer.h"
#include "model/safetensors_writer.h"
#include "model/tiny_llama.h"
#include "model/tokenizer_json_writer.h"

namespace fs = std::filesystem;
using namespace adamas;
using namespace adamas::test;

namespace {

void put(const fs::path& dir, const std::string& name, const std::string& bytes) {
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// The smallest model the loader accepts: one layer, 16 tokens, head dim 32, F16 matrices.
TinySpec small_spec() {
    TinySpec s;
    s.layers = 1, s.embd = 64, s.heads = 2, s.kv_heads = 1, s.head_dim = 32, s.ff = 64, s.vocab = 16;
    s.dtype = "F16";
    return s;
}

void npy_seeds(const fs::path& dir) {
    const fs::path tmp = dir / "tmp.npy";
    fs::create_directories(dir);
    std::vector<float> f32{1.0f, -2.5f, 3.25f, 0.0f, 1e-3f, 7.0f};
    write_npy(tmp.string(), NpyType::f32, {2, 3}, f32.data());
    put(dir, "f32-2x3.npy", read(tmp));
    std::vector<uint16_t> f16{0x3c00, 0xc000, 0x7bff};
    write_npy(tmp.string(), NpyType::f16, {3}, f16.data());
    put(dir, "f16-3.npy", read(tmp));
    std::vector<int32_t> i32{1, 2, 3, 4};
    write_npy(tmp.string(), NpyType::i32, {2, 1, 2}, i32.data());
    put(dir, "i32-2x1x2.npy", read(tmp));
    fs::remove(tmp);
}

void gguf_seeds(const fs::path& dir) {
    put(dir, "tiny-model.gguf", tiny_gguf(make_tiny_model(small_spec(), 7)));
    TinyModel tied = make_tiny_model(
        [] {
            TinySpec s = small_spec();
            s.tied = true;
            s.arch = "qwen2";
            return s;
        }(),
        8);
    put(dir, "tiny-qwen2-tied.gguf", tiny_gguf(tied));
    GgufWriter vocab_only;
    add_vocab_metadata(vocab_only, tiny_vocab());
    put(dir, "vocab-only.gguf", vocab_only.build());
}

void safetensors_seeds(const fs::path& dir) {
    put(dir, "two-tensors.safetensors",
        safetensors_file({{"a.weight", "F32", {2, 2}, encode_floats({1, 2, 3, 4}, "F32")},
                          {"b.bias", "BF16", {3}, encode_floats({1, -1, 0.5f}, "BF16")}}));
    put(dir, "scalar-f16.safetensors", safetensors_file({{"s", "F16", {}, encode_floats({2}, "F16")}}));
}

void hf_config_seeds(const fs::path& dir) {
    put(dir, "llama.json", tiny_config(small_spec()).dump(2));
    TinySpec yarn = small_spec();
    yarn.arch = "qwen2";
    yarn.rope_scaling = {{"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 128}};
    put(dir, "qwen2-yarn.json", tiny_config(yarn).dump());
    TinySpec llama3 = small_spec();
    llama3.rope_scaling = {{"rope_type", "llama3"},
                           {"factor", 8.0},
                           {"low_freq_factor", 1.0},
                           {"high_freq_factor", 4.0},
                           {"original_max_position_embeddings", 128}};
    put(dir, "llama3-scaling.json", tiny_config(llama3).dump());
}

void tokenizer_seeds(const fs::path& root) {
    put(root / "tokenizer_json", "tiny.json", hf_tokenizer_json(tiny_vocab()).dump());
    put(root / "tokenizer_json", "tiny-merges-as-strings.json",
        hf_tokenizer_json(tiny_vocab(), false).dump());
    const std::vector<std::string> texts = {"Hello world",
                                            " hello  world\n\n",
                                            "<|im_start|>user\nHi<|im_end|>\n",
                                            "<s>[INST] x [/INST]",
                                            "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80",
                                            "\xff\xfe invalid \xc3",
                                            "12345 3.14 don't"};
    for (size_t i = 0; i < texts.size(); ++i)
        for (int selector : {0, 7})
            put(root / "tokenizer_encode", fmt::format("text-{}-{}", i, selector), char(selector) + texts[i]);
    auto ids = [](std::vector<int32_t> v, char selector) {
        std::string out(1, selector);
        out.append(reinterpret_cast<const char*>(v.data()), v.size() * 4);
        return out;
    };
    put(root / "tokenizer_decode", "bpe", ids({1, 504, 2113, 28, 0, 2}, 0));
    put(root / "tokenizer_decode", "spm", ids({1, 15043, 3186, 13, 29871, 2}, 1));
    put(root / "chat_template", "chatml",
        std::string("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] "
                    "}}<|im_end|>\n{% endfor %}") +
            '\0' + "What is 2+2?" + '\0' + "You are terse.");
    put(root / "chat_template", "llama3",
        std::string("<|start_header_id|>{{ role }}<|end_header_id|>\n\n{{ content }}<|eot_id|>") + '\0' +
            "  hi  " + '\0');
    put(root / "chat_template", "mistral", std::string("[INST] {{ content }} [/INST]") + '\0' + "x");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_seeds CORPUS_DIR (fuzz/corpus)\n");
        return 1;
    }
    const fs::path root = argv[1];
    npy_seeds(root / "npy");
    gguf_seeds(root / "gguf");
    safetensors_seeds(root / "safetensors");
    hf_config_seeds(root / "hf_config");
    tokenizer_seeds(root);
    return 0;
}
