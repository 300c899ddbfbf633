// Hugging Face directories against GGUF: a tiny random model written both ways (the GGUF with llama.cpp's
// Q/K permutation for llama/mistral) must give the same logits — which checks the config mapping, the
// neox/adjacent RoPE equivalence, biases, tied embeddings, every float dtype, sharding and RoPE scaling.
// Bad directories are Errors naming the path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <numbers>

#include <fmt/format.h>

#include "adamas/error.h"
#include "adamas/llama.h"
#include "model/tiny_llama.h"
#include "test_util.h"

namespace adamas {
namespace {

namespace fs = std::filesystem;
using test::TinyModel;
using test::TinySpec;

std::vector<int32_t> tokens_for(int vocab, int count) {
    std::vector<int32_t> ids;
    std::mt19937 rng(7);
    for (int i = 0; i < count; ++i)
        ids.push_back(int32_t(rng() % uint32_t(vocab)));
    return ids;
}

// Logits after a batched prefill of all but the last 3 tokens, then after each of those as a decode step
// (dense policy: every layout gives the same exact attention). The KV cache is f32: with f16, the ~1e-7
// summation-order differences of the two layouts sometimes flip an f16 rounding, which measured up to
// 7e-5 instead of ~1e-6.
std::vector<float> run_logits(const LlamaModel& model, const std::vector<int32_t>& ids) {
    ThreadPool pool(2);
    RunnerOptions options;
    options.context = 512;
    options.policy.kind = PolicyKind::dense;
    options.kv_dtype = DType::f32;
    LlamaRunner runner(model, options, pool);
    const size_t prompt = ids.size() - 3;
    auto l = runner.forward(std::span(ids).first(prompt), false);
    std::vector<float> out(l.begin(), l.end());
    for (size_t i = prompt; i < ids.size(); ++i) {
        l = runner.forward(std::span(ids).subspan(i, 1), true);
        out.insert(out.end(), l.begin(), l.end());
    }
    return out;
}

class HfModelTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() / fmt::format("adamas-hf-{}-{}", ::getpid(), info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string hf_dir(const std::string& name = "hf") const { return (dir_ / name).string(); }

    std::string write_gguf(const std::string& bytes, const std::string& name = "model.gguf") const {
        std::ofstream((dir_ / name).string(), std::ios::binary) << bytes;
        return (dir_ / name).string();
    }

    // Loads the model both ways and returns the relative L2 difference of their logits.
    double hf_vs_gguf(const TinyModel& m, int shards = 1,
                      const std::function<void(test::GgufWriter&)>& gguf_extra = {}) const {
        test::write_hf_model(m, hf_dir(), shards);
        const auto hf = LlamaModel::load(hf_dir());
        const auto gguf = LlamaModel::load(write_gguf(test::tiny_gguf(m, gguf_extra)));
        EXPECT_EQ(hf->config().rope_style, RopeStyle::neox);
        EXPECT_EQ(gguf->config().rope_style, m.spec.arch == "qwen2" ? RopeStyle::neox : RopeStyle::adjacent);
        EXPECT_EQ(hf->config().rope_scaling.type, gguf->config().rope_scaling.type);
        const auto ids = tokens_for(m.spec.vocab, 60);
        last_logits_ = run_logits(*hf, ids);
        const auto want = run_logits(*gguf, ids);
        return test::relative_error(last_logits_.data(), want.data(), want.size());
    }

    // Loading `path` must fail with a message containing `needle` and the file it is about, `named`
    // (default: `path`).
    void expect_load_error(const std::string& path, const std::string& needle, std::string named = "") const {
        if (named.empty()) named = path;
        try {
            LlamaModel::load(path);
            ADD_FAILURE() << "no error; expected one containing '" << needle << "'";
        } catch (const Error& e) {
            const std::string message = e.what();
            EXPECT_NE(message.find(needle), std::string::npos)
                << "expected '" << needle << "' in: " << message;
            EXPECT_NE(message.find(named), std::string::npos) << message;
        }
    }

    fs::path dir_;
    mutable std::vector<float> last_logits_;
};

// The same weights through both loaders differ only in summation order (Q/K dims permuted): measured
// 0 (qwen2, unpermuted) to 1.2e-6 relative.
constexpr double kSameModel = 1e-4;

TEST_F(HfModelTest, LlamaMatchesGgufInEveryDtype) {
    for (const char* dtype : {"F32", "F16", "BF16"}) {
        TinySpec spec;
        spec.dtype = dtype;
        const TinyModel m = test::make_tiny_model(spec, 11);
        EXPECT_LT(hf_vs_gguf(m), kSameModel) << dtype;
        const auto hf = LlamaModel::load(hf_dir());
        EXPECT_EQ(hf->gguf(), nullptr);
        EXPECT_EQ(hf->path(), hf_dir());
        EXPECT_EQ(hf->token_embedding().type, std::string(dtype) == "F32"   ? GgmlType::f32
                                              : std::string(dtype) == "F16" ? GgmlType::f16
                                                                            : GgmlType::bf16);
        fs::remove_all(hf_dir());
    }
}

TEST_F(HfModelTest, ShardedBf16MatchesGguf) {
    TinySpec spec;
    spec.dtype = "BF16";
    EXPECT_LT(hf_vs_gguf(test::make_tiny_model(spec, 12), /*shards=*/3), kSameModel);
    EXPECT_TRUE(fs::exists(fs::path(hf_dir()) / "model.safetensors.index.json"));
}

TEST_F(HfModelTest, Qwen2WithBiasesMatchesGgufInNeoxStyle) {
    TinySpec spec;
    spec.arch = "qwen2";
    spec.theta = 1000000.0f;
    spec.rms_eps = 1e-6f;
    const TinyModel m = test::make_tiny_model(spec, 13);
    EXPECT_LT(hf_vs_gguf(m), kSameModel);
    const auto hf = LlamaModel::load(hf_dir());
    EXPECT_TRUE(hf->config().qkv_bias);
    EXPECT_NE(hf->layer(1).k_bias, nullptr);
}

// Adjacent-pair RoPE on weights in Hugging Face order (what GGUF qwen2 got before it used neox) is
// another model: the style is not a detail.
TEST_F(HfModelTest, AdjacentRopeOnUnpermutedWeightsDiffers) {
    const TinyModel m = test::make_tiny_model(TinySpec{}, 13);
    test::write_hf_model(m, hf_dir());
    const auto hf = LlamaModel::load(hf_dir());
    const auto unpermuted = LlamaModel::load(write_gguf(test::tiny_gguf(m, {}, /*permute_qk=*/false)));
    const auto ids = tokens_for(m.spec.vocab, 60);
    const auto a = run_logits(*hf, ids), b = run_logits(*unpermuted, ids);
    EXPECT_GT(test::relative_error(b.data(), a.data(), a.size()), 1e-2);
}

TEST_F(HfModelTest, MistralTiedAndHeadDimOtherThanWidthOverHeads) {
    TinySpec spec;
    spec.arch = "mistral";
    spec.tied = true;
    spec.embd = 96;  // 4 heads of 32: q width 128 != 96
    const TinyModel m = test::make_tiny_model(spec, 14);
    EXPECT_LT(hf_vs_gguf(m), kSameModel);
    const auto hf = LlamaModel::load(hf_dir());
    EXPECT_TRUE(hf->config().tied_embeddings);
    EXPECT_EQ(hf->output().data, hf->token_embedding().data);
    EXPECT_EQ(hf->config().head_dim, 32);
}

TEST_F(HfModelTest, LinearScalingMatchesGguf) {
    TinySpec spec;
    spec.rope_scaling = {{"type", "linear"}, {"factor", 4.0}};
    const TinyModel m = test::make_tiny_model(spec, 15);
    EXPECT_LT(hf_vs_gguf(m, 1,
                         [](test::GgufWriter& w) {
                             using namespace test::gguf_enc;
                             w.kv("llama.rope.scaling.type", test::kString, str("linear"))
                                 .kv("llama.rope.scaling.factor", test::kF32, scalar<float>(4.0f));
                         }),
              kSameModel);
    // And the scaling changes the model.
    const std::vector<float> scaled = last_logits_;
    TinyModel plain = m;
    plain.spec.rope_scaling = nullptr;
    hf_vs_gguf(plain);
    EXPECT_GT(test::relative_error(scaled.data(), last_logits_.data(), scaled.size()), 1e-3);
}

TEST_F(HfModelTest, YarnScalingMatchesGguf) {
    TinySpec spec;
    spec.arch = "qwen2";
    spec.rope_scaling = {{"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 128}};
    const TinyModel m = test::make_tiny_model(spec, 16);
    EXPECT_LT(hf_vs_gguf(m, 1,
                         [](test::GgufWriter& w) {
                             using namespace test::gguf_enc;
                             w.kv("qwen2.rope.scaling.type", test::kString, str("yarn"))
                                 .kv("qwen2.rope.scaling.factor", test::kF32, scalar<float>(4.0f))
                                 .kv("qwen2.rope.scaling.original_context_length", test::kU32,
                                     scalar<uint32_t>(128));
                         }),
              kSameModel);
    const auto hf = LlamaModel::load(hf_dir());
    EXPECT_NEAR(hf->config().rope_scaling.mscale, 0.1 * std::log(4.0) + 1, 1e-6);
    EXPECT_EQ(hf->config().rope_scaling.original_context, 128);
}

// Llama 3 scaling: config.json's rope_scaling against llama.cpp's form of it, a rope_freqs tensor of
// per-pair divisors (computed here from the same definition, in double).
TEST_F(HfModelTest, Llama3ScalingMatchesGgufRopeFreqs) {
    TinySpec spec;
    spec.theta = 500000.0f;
    const double factor = 8, low = 1, high = 4, original = 128;
    spec.rope_scaling = {{"rope_type", "llama3"},
                         {"factor", factor},
                         {"low_freq_factor", low},
                         {"high_freq_factor", high},
                         {"original_max_position_embeddings", int(original)}};
    std::vector<float> divisors;
    for (int i = 0; i < spec.head_dim / 2; ++i) {
        const double f = std::pow(double(spec.theta), -2.0 * i / spec.head_dim),
                     wavelength = 2 * std::numbers::pi / f;
        double scaled = f;
        if (wavelength > original / low) {
            scaled = f / factor;
        } else if (wavelength >= original / high) {
            const double smooth = (original / wavelength - low) / (high - low);
            scaled = (1 - smooth) * f / factor + smooth * f;
        }
        divisors.push_back(float(f / scaled));
    }
    ASSERT_EQ(divisors.front(), 1.0f);
    ASSERT_FLOAT_EQ(divisors.back(), float(factor));
    const TinyModel m = test::make_tiny_model(spec, 17);
    test::write_hf_model(m, hf_dir());
    const auto hf = LlamaModel::load(hf_dir());
    std::string bytes = test::tiny_gguf(m, [&](test::GgufWriter& w) {
        w.tensor("rope_freqs.weight", 0, {uint64_t(divisors.size())}, test::encode_floats(divisors, "F32"));
    });
    const auto gguf = LlamaModel::load(write_gguf(bytes));
    EXPECT_EQ(gguf->config().rope_freq_factors, divisors);
    const auto ids = tokens_for(spec.vocab, 60);
    const auto a = run_logits(*hf, ids), b = run_logits(*gguf, ids);
    EXPECT_LT(test::relative_error(a.data(), b.data(), a.size()), kSameModel);
}

TEST_F(HfModelTest, NoGgufFileAndNoTokenizerAreClearErrors) {
    test::write_hf_model(test::make_tiny_model(TinySpec{}, 18), hf_dir());
    const auto hf = LlamaModel::load(hf_dir());
    EXPECT_FALSE(hf->has_tokenizer());
    auto expect_message = [](const std::function<void()>& call, const std::string& needle) {
        try {
            call();
            ADD_FAILURE() << "no error; expected '" << needle << "'";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    expect_message([&] { hf->file(); }, hf_dir() + ": is a Hugging Face model directory, not a GGUF file");
    expect_message([&] { hf->tokenizer_vocab(); }, hf_dir() + "/tokenizer.json: is missing");
}

// Rewrites config.json with `change` applied.
void edit_config(const std::string& dir, const std::function<void(nlohmann::json&)>& change) {
    const std::string path = (fs::path(dir) / "config.json").string();
    nlohmann::json c = nlohmann::json::parse(std::ifstream(path));
    change(c);
    std::ofstream(path) << c.dump();
}

TEST_F(HfModelTest, BadDirectoriesAreErrorsNamingThePath) {
    const TinyModel m = test::make_tiny_model(TinySpec{}, 19);
    const std::string dir = hf_dir();
    const std::string config = (fs::path(dir) / "config.json").string();
    const std::string weights = (fs::path(dir) / "model.safetensors").string();
    auto fresh = [&] {
        fs::remove_all(dir);
        test::write_hf_model(m, dir);
    };
    fs::create_directories(dir);
    expect_load_error(dir, "has no config.json");
    fresh();
    fs::remove(weights);
    expect_load_error(dir, "has neither model.safetensors nor model.safetensors.index.json");
    fresh();
    std::ofstream(config) << "{\"model_type\": ";
    expect_load_error(dir, "not valid JSON", config);
    struct Case {
        std::function<void(nlohmann::json&)> change;
        std::string needle;
    };
    const std::vector<Case> cases = {
        {[](auto& c) { c["model_type"] = "gemma"; },
         "model_type 'gemma' is not supported (expected llama, mistral"},
        {[](auto& c) { c["architectures"] = {"LlamaForSequenceClassification"}; },
         "architecture 'LlamaForSequenceClassification' is not supported"},
        {[](auto& c) {
             c.erase("model_type");
             c.erase("architectures");
         },
         "neither 'model_type' nor"},
        {[](auto& c) { c["hidden_size"] = "128"; }, "'hidden_size' is \"128\" (expected an integer"},
        {[](auto& c) { c.erase("intermediate_size"); }, "'intermediate_size' is missing"},
        {[](auto& c) { c["num_key_value_heads"] = 3; }, "4 attention heads are not a multiple of 3 KV heads"},
        {[](auto& c) { c["head_dim"] = 48; }, "head dim 48 is not a power of two"},
        {[](auto& c) { c["hidden_act"] = "gelu"; }, "hidden_act 'gelu' is not supported"},
        {[](auto& c) {
             c["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};
         },
         "RoPE scaling type 'dynamic' is not supported (expected linear, llama3 or yarn)"},
        {[](auto& c) {
             c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
         },
         "rope_scaling of type 'llama3' has no 'low_freq_factor'"},
        {[](auto& c) {
             c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", -1.0}};
         },
         "factor is -1"},
        {[](auto& c) { c["intermediate_size"] = 150; },
         "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [160, 128] (expected [150, 128]"},
        {[](auto& c) { c["vocab_size"] = 100; }, "tensor 'model.embed_tokens.weight' has shape [101, 128]"},
        {[](auto& c) { c["tie_word_embeddings"] = true; }, ""},  // loads: lm_head is then unused
        {[](auto& c) { c["attention_bias"] = true; },
         "tensor 'model.layers.0.self_attn.q_proj.bias' is missing"},
        {[](auto& c) {
             c["model_type"] = "qwen2";
             c["architectures"] = {"Qwen2ForCausalLM"};
         },
         "tensor 'model.layers.0.self_attn.q_proj.bias' is missing (expected in a qwen2 checkpoint"},
        {[](auto& c) { c["num_hidden_layers"] = 3; },
         "tensor 'model.layers.2.input_layernorm.weight' is missing"},
    };
    for (const Case& c : cases) {
        fresh();
        edit_config(dir, c.change);
        if (c.needle.empty()) {
            EXPECT_NO_THROW(LlamaModel::load(dir));
            continue;
        }
        expect_load_error(dir, c.needle);
    }
    // Tensors: a wrong dtype, a bias the config does not declare, a missing lm_head.
    TinyModel bad = m;
    fresh();
    std::vector<test::StTensor> tensors;
    for (const auto& [name, values] : m.tensors)
        tensors.push_back({name, "F32", m.shapes.at(name), test::encode_floats(values, "F32")});
    auto rewrite = [&](std::vector<test::StTensor> ts) {
        std::ofstream(weights, std::ios::binary | std::ios::trunc) << test::safetensors_file(ts);
    };
    auto with = tensors;
    for (auto& t : with)
        if (t.name == "model.layers.1.self_attn.o_proj.weight") t.dtype = "I32";
    rewrite(with);
    expect_load_error(
        dir, "tensor 'model.layers.1.self_attn.o_proj.weight' has dtype I32 (expected F32, F16 or BF16)");
    with = tensors;
    with.push_back({"model.layers.0.self_attn.k_proj.bias", "F32", {64}, std::string(256, '\0')});
    rewrite(with);
    expect_load_error(dir, "config.json declares no attention biases", weights);
    with = tensors;
    std::erase_if(with, [](const auto& t) { return t.name == "lm_head.weight"; });
    rewrite(with);
    expect_load_error(dir, "tensor 'lm_head.weight' is missing");
    with = tensors;
    for (auto& t : with)
        if (t.name == "model.norm.weight") t.shape = {2, 64};
    rewrite(with);
    expect_load_error(dir, "tensor 'model.norm.weight' has shape [2, 64] (expected [128]", weights);
}

// GGUF keys of RoPE scaling reach the config; unknown types are errors.
// Numbers that parse but make no model (NaN, infinity, zero or out of range) are errors naming the key,
// in GGUF metadata and config.json alike.
TEST_F(HfModelTest, ConfigNumbersOutOfRangeAreErrors) {
    using namespace test::gguf_enc;
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    struct Case {
        std::function<void(TinySpec&)> change;
        std::string needle;
    };
    const std::vector<Case> cases = {
        {[&](TinySpec& s) { s.theta = nan; }, "RoPE base frequency (theta) is nan (expected a finite number"},
        {[&](TinySpec& s) { s.theta = inf; }, "RoPE base frequency (theta) is inf"},
        {[&](TinySpec& s) { s.theta = 1.0f; },
         "RoPE base frequency (theta) is 1 (expected a finite number above 1)"},
        {[&](TinySpec& s) { s.rms_eps = 0.0f; },
         "RMS norm epsilon is 0 (expected a positive number below 1)"},
        {[&](TinySpec& s) { s.rms_eps = nan; }, "RMS norm epsilon is nan"},
        {[&](TinySpec& s) { s.context = 0; }, "'llama.context_length' is 0 (expected 1 to"},
    };
    for (const Case& c : cases) {
        TinySpec spec;
        spec.layers = 1;
        c.change(spec);
        expect_load_error(write_gguf(test::tiny_gguf(test::make_tiny_model(spec, 21))), c.needle);
    }
    const TinyModel m = test::make_tiny_model(TinySpec{}, 22);
    expect_load_error(write_gguf(test::tiny_gguf(
                          m,
                          [&](test::GgufWriter& w) {
                              w.kv("llama.rope.scaling.type", test::kString, str("yarn"))
                                  .kv("llama.rope.scaling.factor", test::kF32, scalar<float>(4.0f))
                                  .kv("llama.rope.scaling.yarn_beta_fast", test::kF32, scalar<float>(inf));
                          })),
                      "yarn RoPE scaling has a parameter that is inf (expected finite numbers)");
    // config.json: a number beyond float's range would become infinity.
    test::write_hf_model(m, hf_dir());
    auto config = test::tiny_config(m.spec);
    config["rms_norm_eps"] = 1e39;
    std::ofstream(fs::path(hf_dir()) / "config.json") << config.dump();
    expect_load_error(hf_dir(), "'rms_norm_eps' is 1e+39 (expected a number within float range)");
    config["rms_norm_eps"] = 1e-5;
    config["hidden_size"] = nlohmann::json::parse(std::string(40, '[') + "1" + std::string(40, ']'));
    std::ofstream(fs::path(hf_dir()) / "config.json") << config.dump();
    expect_load_error(hf_dir(), "'hidden_size' is an array of 1 items (expected an integer");
}

// Weights are used in place: with general.alignment 1 an f32 tensor can start off its 4-byte alignment,
// which is an error naming the tensor rather than misaligned loads.
TEST_F(HfModelTest, MisalignedWeightsAreErrors) {
    using namespace test::gguf_enc;
    const TinyModel m = test::make_tiny_model(TinySpec{}, 23);
    int misaligned = 0;
    for (int pad = 0; pad < 4; ++pad) {
        const std::string path = write_gguf(test::tiny_gguf(m, [&](test::GgufWriter& w) {
            w.alignment = 1;
            w.kv("general.alignment", test::kU32, scalar<uint32_t>(1))
                .kv("pad", test::kString, str(std::string(size_t(pad), 'x')));
        }));
        try {
            LlamaModel::load(path);
        } catch (const Error& e) {
            ++misaligned;
            EXPECT_NE(std::string(e.what()).find(
                          "not a multiple of 4 (general.alignment 1; expected 4-byte aligned"),
                      std::string::npos)
                << e.what();
        }
    }
    EXPECT_EQ(misaligned, 3);  // one padding of the four puts the data section on a multiple of 4
}

TEST_F(HfModelTest, GgufRopeScalingKeys) {
    const TinyModel m = test::make_tiny_model(TinySpec{}, 20);
    using namespace test::gguf_enc;
    const auto yarn = LlamaModel::load(write_gguf(test::tiny_gguf(m, [](test::GgufWriter& w) {
        w.kv("llama.rope.scaling.type", test::kString, str("yarn"))
            .kv("llama.rope.scaling.factor", test::kF32, scalar<float>(16.0f))
            .kv("llama.rope.scaling.yarn_beta_fast", test::kF32, scalar<float>(24.0f))
            .kv("llama.rope.scaling.yarn_attn_factor", test::kF32, scalar<float>(0.5f));
    })));
    const RopeScaling& s = yarn->config().rope_scaling;
    EXPECT_EQ(s.type, RopeScalingType::yarn);
    EXPECT_EQ(s.original_context, 512);  // the training context when the key is absent, as llama.cpp
    EXPECT_EQ(s.beta_fast, 24.0f);
    EXPECT_EQ(s.beta_slow, 1.0f);
    EXPECT_NEAR(s.mscale, 0.5 * (0.1 * std::log(16.0) + 1), 1e-6);
    const auto legacy = LlamaModel::load(write_gguf(test::tiny_gguf(
        m, [](test::GgufWriter& w) { w.kv("llama.rope.scale_linear", test::kF32, scalar<float>(2.0f)); })));
    EXPECT_EQ(legacy->config().rope_scaling.type, RopeScalingType::linear);
    EXPECT_EQ(legacy->config().rope_scaling.factor, 2.0f);
    const std::string path = write_gguf(test::tiny_gguf(
        m, [](test::GgufWriter& w) { w.kv("llama.rope.scaling.type", test::kString, str("longrope")); }));
    expect_load_error(path, "RoPE scaling type 'longrope' is not supported (expected none, linear or yarn)");
    const std::string bad_freqs = write_gguf(test::tiny_gguf(m, [](test::GgufWriter& w) {
        w.tensor("rope_freqs.weight", 0, {8}, test::encode_floats(std::vector<float>(8, 1.0f), "F32"));
    }));
    expect_load_error(bad_freqs, "tensor 'rope_freqs.weight' is f32 with 8 elements (expected f32 with 16)");
}

}  // namespace
}  // namespace adamas
