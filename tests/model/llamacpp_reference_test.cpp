// Our runtime against llama.cpp on the default model (fixtures in tests/fixtures/llamacpp, made by
// scripts/reference/make-fixtures.sh; skipped when the model is not installed): same token ids, last-
// position logits close in relative L2, and the same argmax wherever llama.cpp's top-2 margin is clear.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "adamas/data_paths.h"
#include "adamas/llama.h"
#include "adamas/npy.h"
#include "adamas/tokenizer.h"
#include "test_util.h"

namespace adamas {
namespace {

std::string fixture(const std::string& name) {
    return std::string(ADAMAS_SOURCE_DIR) + "/tests/fixtures/llamacpp/" + name;
}

// Last-position logits against llama.cpp (8-bit activations in its Q4_1/Q8_0 products, f16 KV cache,
// f16 Q·K). Measured on the six prompts: with our 8-bit activations (the default, llama.cpp's scheme)
// 0.9-8.1 % relative L2; with float activations 0.8-6.7 %. A 135M model's logits are that sensitive:
// llama.cpp's own flash and non-flash paths differ by 2.9 % on the 200-token prompt. Perplexity is the
// steadier measure (docs/benchmarks.md): 25.69 with 8-bit activations, 25.62 float, llama.cpp 25.71.
constexpr double kLogitsTolerance[2] = {0.10, 0.10};  // float, quantized activations
constexpr float kClearMargin = 1.0f;                  // logit gap above which the argmax must agree

nlohmann::json load_fixture(const std::string& name) {
    std::ifstream in(fixture(name + ".json"));
    return nlohmann::json::parse(in);
}

int32_t argmax(std::span<const float> logits) {  // the lowest id wins a tie, as in the fixtures
    int32_t best = 0;
    for (int32_t v = 1; v < int32_t(logits.size()); ++v)
        if (logits[size_t(v)] > logits[size_t(best)]) best = v;
    return best;
}

class LlamaCppReference : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!std::filesystem::exists(default_model_path()))
            GTEST_SKIP() << "model not installed: " << default_model_path();
        model_ = LlamaModel::load(default_model_path());
        tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_vocab(vocab_from_gguf(model_->file())));
    }
    std::unique_ptr<LlamaModel> model_;
    std::unique_ptr<Tokenizer> tokenizer_;
};

TEST_F(LlamaCppReference, TokensLogitsAndArgmax) {
    ThreadPool pool(2);
    for (const bool quantized : {false, true})
        for (const std::string name : {"capital", "chat", "austen", "unicode", "capital-chat", "counting"}) {
            const auto ref = load_fixture(name);
            const std::vector<int32_t> ids = ref["tokens"].get<std::vector<int32_t>>();
            EXPECT_EQ(tokenizer_->encode(ref["prompt"].get<std::string>(), tokenizer_->add_bos(), true), ids)
                << name;
            RunnerOptions options;
            options.context = 512;
            options.policy.kind = PolicyKind::dense;
            options.quantized_activations = quantized;
            LlamaRunner runner(*model_, options, pool);
            int disagreements = 0, clear_positions = 0;
            std::span<const float> logits;
            for (size_t i = 0; i < ids.size(); ++i) {
                logits = runner.forward({&ids[i], 1}, false);
                if (ref["positions"]["margin"][i].get<float>() < kClearMargin) continue;
                ++clear_positions;
                disagreements += argmax(logits) != ref["positions"]["argmax"][i].get<int32_t>();
            }
            EXPECT_EQ(disagreements, 0)
                << name << ": argmax differs at positions with a clear margin (of " << clear_positions << ")";
            const std::vector<float> want = read_npy(fixture(name + ".logits_last.f16.npy")).to_f32();
            ASSERT_EQ(want.size(), logits.size());
            const double error = test::relative_error(logits.data(), want.data(), want.size());
            EXPECT_LT(error, kLogitsTolerance[quantized]) << name << (quantized ? " (8-bit)" : " (float)");
            std::printf(
                "[ llama.cpp ] %-12s %s %3zu tokens: last logits relative L2 %.4f, argmax agrees at %d clear "
                "positions\n",
                name.c_str(), quantized ? "8-bit" : "float", ids.size(), error,
                clear_positions - disagreements);
        }
}

// Prompt in one batch, then greedy decode steps (dense), as llama.cpp's greedy run did. Counting: every
// llama.cpp margin is above 3, so all 32 tokens must be identical. The chat question must agree up to
// its first near-tie (margin 0.18 at step 31). "The capital of France is" is only reported: llama.cpp's
// margin is 0.33 at step 6, where we choose the runner-up; that gap is within what separates two
// correct implementations of this model (see the logits tolerance above).
TEST_F(LlamaCppReference, GreedyContinuationIsIdentical) {
    ThreadPool pool(2);
    for (const std::string name : {"counting", "capital-chat", "capital"}) {
        const auto ref = load_fixture(name);
        const auto want = ref["greedy"]["tokens"].get<std::vector<int32_t>>();
        const std::vector<int32_t> ids = ref["tokens"].get<std::vector<int32_t>>();
        RunnerOptions options;
        options.context = 512;
        options.policy.kind = PolicyKind::dense;
        LlamaRunner runner(*model_, options, pool);
        auto logits = runner.forward(ids, false);
        std::vector<int32_t> got;
        for (size_t i = 0; i < want.size(); ++i) {
            got.push_back(argmax(logits));
            logits = runner.forward({&got.back(), 1}, true);
        }
        size_t same = 0;
        while (same < want.size() && got[same] == want[same])
            ++same;
        std::printf("[ llama.cpp ] %-12s greedy: first %zu of %zu tokens identical\n", name.c_str(), same,
                    want.size());
        if (name == "counting") {
            ASSERT_EQ(want.size(), 32u);
            EXPECT_EQ(got, want);
        }
        if (name == "capital-chat") {
            EXPECT_GE(same, 30u);
        }
    }
}

}  // namespace
}  // namespace adamas
