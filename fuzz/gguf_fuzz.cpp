// Fuzzes the GGUF reader end to end: header, metadata, tensor table and offsets, then what the engine
// reads from a valid file (every value rendered, the model configuration, the tokenizer vocabulary and
// the tokenizer built from it). Only adamas::Error may come out.
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "adamas/error.h"
#include "adamas/gguf.h"
#include "adamas/llama.h"
#include "adamas/tokenizer.h"
#include "fuzz_input.h"

namespace {

template <typename F>
void expect_only_errors(F&& f) {
    try {
        f();
    } catch (const adamas::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    adamas::fuzz::MemoryFile input(data, size);
    std::optional<adamas::GgufFile> file;
    expect_only_errors([&] { file.emplace(adamas::GgufFile::open(input.path())); });
    if (!file) return 0;
    size_t rendered = 0;
    for (const auto& kv : file->metadata())
        rendered += kv.value.summary().size();
    const uint8_t* begin = file->mapping();
    const uint8_t* end = begin + file->file_size();
    for (const auto& t : file->tensors()) {
        // The reader promises every tensor's bytes inside the file (the mapping is not ASan-tracked).
        if (t.bytes < 0 || t.data < begin + file->data_offset() || t.data + t.bytes > end) std::abort();
        rendered += t.name.size() + size_t(t.bytes > 0 ? t.data[t.bytes - 1] : 0);
    }
    volatile size_t sink = rendered;
    (void)sink;
    expect_only_errors([&] { (void)adamas::LlamaConfig::from_gguf(*file); });
    expect_only_errors([&] {
        adamas::TokenizerVocab vocab = adamas::vocab_from_gguf(*file);
        adamas::Tokenizer tokenizer = adamas::Tokenizer::from_vocab(vocab);
        auto ids = tokenizer.encode("Hello world <s> 12345\n\xff", true, true);
        (void)tokenizer.decode(ids);
    });
    return 0;
}
