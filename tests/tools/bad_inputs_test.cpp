// The table of bad inputs (docs/robustness.md): every kind of file the tools read, broken the ways files
// break — truncated at every structural boundary, wrong magic or version, huge counts, offsets outside
// the file or overlapping, non-UTF-8 strings, NaN weights, wrong dtypes and shapes, empty files,
// directories, paths that cannot be opened. Each must end with one line on stderr that names the file,
// exit code 2, no signal, within seconds and without a large allocation. With ADAMAS_BAD_INPUTS_TABLE set
// to a path, the test also writes the table of messages there (scripts/bad_inputs_table.sh).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adamas/npy.h"
#include "model/safetensors_writer.h"
#include "model/tiny_llama.h"
#include "model/tokenizer_json_writer.h"
#include "tools/cli_runner.h"

namespace adamas {
namespace {

namespace fs = std::filesystem;
using namespace test::gguf_enc;
using test::GgufWriter;

// How one run of the binary ended, with its own peak memory (wait4 reports the child's).
struct Outcome {
    int code = -1;  // -1 when killed by a signal
    int signal = 0;
    std::string err;
    double seconds = 0;
    long max_rss_mb = 0;
};

constexpr double kMaxSeconds = 10;
constexpr long kMaxRssMb = 256;  // the tiny models need a few MB; a claim-sized allocation would not fit

class BadInputsTest : public test::CliTest {
  protected:
    struct Row {
        std::string input, problem, message;
    };

    void write(const std::string& name, const std::string& bytes) const {
        fs::create_directories(fs::path(path(name)).parent_path());
        std::ofstream(path(name), std::ios::binary | std::ios::trunc) << bytes;
    }
    static std::string read(const std::string& p) { return test::slurp(p); }

    Outcome run_measured(const std::string& args) const {
        const std::string command = fmt::format("exec '{}' {} >'{}' 2>'{}' </dev/null", ADAMAS_BINARY, args,
                                                path("stdout.txt"), path("stderr.txt"));
        const auto start = std::chrono::steady_clock::now();
        const pid_t pid = fork();
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        int status = 0;
        rusage usage{};
        wait4(pid, &status, 0, &usage);
        Outcome o;
        o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        o.max_rss_mb = usage.ru_maxrss / 1024;
        if (WIFEXITED(status)) o.code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
        o.err = read(path("stderr.txt"));
        return o;
    }

    // Runs `args` on the bad input `input` (a path under the scratch directory, or absolute) and checks
    // the outcome; `problem` says what is wrong with it. Rows go to the table when `table` is set.
    void expect_clean_failure(const std::string& input, const std::string& problem, const std::string& args,
                              bool table = true) {
        SCOPED_TRACE(problem + " (" + input + "): adamas " + args);
        const Outcome o = run_measured(args);
        EXPECT_EQ(o.signal, 0);
        EXPECT_EQ(o.code, 2) << o.err;
        EXPECT_LT(o.seconds, kMaxSeconds);
        EXPECT_LT(o.max_rss_mb, kMaxRssMb);
        ASSERT_FALSE(o.err.empty());
        EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << "more than one line: " << o.err;
        const std::string name = fs::path(input).filename().string();
        EXPECT_NE(o.err.find(name), std::string::npos)
            << "the message does not name " << name << ": " << o.err;
        if (table) rows_.push_back({input, problem, shown(o.err)});
    }

    // The message as the table shows it: the scratch directory elided, one line, pipes escaped.
    std::string shown(std::string message) const {
        const std::string dir = dir_.string() + "/";
        for (size_t at; (at = message.find(dir)) != std::string::npos;)
            message.replace(at, dir.size(), "");
        while (!message.empty() && message.back() == '\n')
            message.pop_back();
        std::string out;
        for (char c : message)
            out += c == '|' ? std::string("\\|") : std::string(1, c);
        return out;
    }

    void TearDown() override {
        const char* table = std::getenv("ADAMAS_BAD_INPUTS_TABLE");
        if (table && !rows_.empty()) {
            std::ofstream out(table, std::ios::app);
            for (const Row& r : rows_)
                out << fmt::format("| `{}` | {} | `{}` |\n", r.input, r.problem, r.message);
        }
        test::CliTest::TearDown();
    }

    std::vector<Row> rows_;
};

test::TinySpec small_spec() {
    test::TinySpec s;
    s.layers = 1, s.embd = 64, s.heads = 2, s.kv_heads = 1, s.head_dim = 32, s.ff = 64;
    s.vocab = int(test::tiny_vocab().tokens.size());
    return s;
}

std::string small_gguf(const test::TinyModel& m, GgufWriter::Layout* layout = nullptr,
                       const std::function<void(GgufWriter&)>& extra = {}) {
    return test::tiny_gguf(
        m,
        [&](GgufWriter& w) {
            test::add_vocab_metadata(w, test::tiny_vocab());
            if (extra) extra(w);
        },
        true, layout);
}

TEST_F(BadInputsTest, GgufModels) {
    const test::TinyModel model = test::make_tiny_model(small_spec(), 31);
    GgufWriter::Layout layout;
    const std::string good = small_gguf(model, &layout);
    write("model.gguf", good);
    const auto gen = [&](const std::string& file) {
        return fmt::format("generate -m '{}' -p hello -n 2", path(file));
    };
    ASSERT_EQ(run_measured(gen("model.gguf")).code, 0) << "the unbroken model must run";

    auto bad = [&](const std::string& problem, std::string bytes, bool table = true) {
        write("bad.gguf", bytes);
        expect_clean_failure("bad.gguf", problem, gen("bad.gguf"), table);
    };
    bad("empty file", "");
    bad("wrong magic", "GGUG" + good.substr(4));
    // One little-endian field of the good file overwritten.
    auto patched = [&](const std::string& problem, size_t pos, auto value) {
        std::string b = good;
        test::patch(b, pos, value);
        bad(problem, b);
    };
    patched("version 1 (GGML era)", layout.version, uint32_t(1));
    patched("version 7", layout.version, uint32_t(7));
    patched("tensor count 2^60", layout.tensor_count, uint64_t(1) << 60);
    patched("metadata count 2^60", layout.kv_count, uint64_t(1) << 60);
    patched("a key's length 2^62", layout.kv_key[1], uint64_t(1) << 62);
    patched("unknown value type 99", layout.kv_type[1], uint32_t(99));
    const size_t tokens_entry = layout.kv_value.size() - 4;  // tokenizer.ggml.tokens (see add_vocab_metadata)
    patched("string array count 2^61", layout.kv_value[tokens_entry] + 4, uint64_t(1) << 61);
    patched("tensor dimension 2^62", layout.t_dims[0], uint64_t(1) << 62);
    patched("unknown tensor type 99", layout.t_type[0], uint32_t(99));
    patched("tensor data offset past the end", layout.t_offset.back(), uint64_t(1) << 40);
    patched("two tensors at the same offset", layout.t_offset[1], uint64_t(0));
    patched("tensor data overlapping another's", layout.t_offset[1], uint64_t(32 * 7));
    bad("tensor data cut short", good.substr(0, good.size() - 1));

    // Truncated at every structural boundary (each field's start), and one byte into each.
    std::set<size_t> cuts = {4, layout.version, layout.tensor_count, layout.kv_count, layout.data_start};
    for (const auto* fields :
         {&layout.kv_key, &layout.kv_type, &layout.kv_value, &layout.t_name, &layout.t_n_dims, &layout.t_dims,
          &layout.t_type, &layout.t_offset, &layout.t_data})
        for (size_t field : *fields)
            cuts.insert({field, field + 1});
    for (size_t at : cuts)
        if (at > 0 && at < good.size())  // the table shows one cut in each section
            bad(fmt::format("truncated at byte {}", at), good.substr(0, at),
                at == layout.kv_value[2] || at == layout.t_offset[0] + 1 || at == layout.data_start + 1);

    // Values that parse but make no model.
    test::TinySpec q5 = small_spec();
    q5.q5_0_matrices = true;
    write("q5_0.gguf", small_gguf(test::make_tiny_model(q5, 32)));
    expect_clean_failure("q5_0.gguf", "tensor type the engine does not compute with (q5_0)",
                         gen("q5_0.gguf"));
    test::TinySpec odd_arch = small_spec();
    odd_arch.arch = "gemma\xff\xfe";
    write("arch.gguf", small_gguf(test::make_tiny_model(odd_arch, 36)));
    expect_clean_failure("arch.gguf", "non-UTF-8 architecture name", gen("arch.gguf"));
    test::TinySpec nan_theta = small_spec();
    nan_theta.theta = std::numeric_limits<float>::quiet_NaN();
    write("theta.gguf", small_gguf(test::make_tiny_model(nan_theta, 33)));
    expect_clean_failure("theta.gguf", "RoPE theta NaN", gen("theta.gguf"));
    test::TinyModel nan_weights = model;
    nan_weights.tensors["model.norm.weight"][3] = std::numeric_limits<float>::quiet_NaN();
    write("nan.gguf", small_gguf(nan_weights));
    expect_clean_failure("nan.gguf", "a NaN weight", gen("nan.gguf"));
    test::TinyModel inf_weights = model;
    for (float& x : inf_weights.tensors["model.embed_tokens.weight"])
        x = std::numeric_limits<float>::infinity();
    write("inf.gguf", small_gguf(inf_weights));
    expect_clean_failure("inf.gguf", "infinite weights", gen("inf.gguf"));
}

TEST_F(BadInputsTest, PathsThatAreNotModelFiles) {
    const test::TinyModel model = test::make_tiny_model(small_spec(), 34);
    write("model.gguf", small_gguf(model));
    fs::create_directories(path("empty_dir"));
    fs::create_symlink(path("nowhere.gguf"), path("dangling.gguf"));
    const auto gen = [&](const std::string& p) { return fmt::format("generate -m '{}' -p hello -n 1", p); };
    expect_clean_failure(path("missing.gguf"), "no such file", gen(path("missing.gguf")));
    expect_clean_failure(path("empty_dir"), "a directory without config.json", gen(path("empty_dir")));
    expect_clean_failure(path("dangling.gguf"), "a dangling symbolic link", gen(path("dangling.gguf")));
    expect_clean_failure(path("model.gguf") + "/x.gguf", "a path through a file",
                         gen(path("model.gguf") + "/x.gguf"));
    expect_clean_failure("/dev/null", "a device", gen("/dev/null"));
    const auto ppl = [&](const std::string& p) {
        return fmt::format("perplexity -m '{}' -f '{}' --ctx 16", path("model.gguf"), p);
    };
    expect_clean_failure(path("empty_dir"), "a directory as the text", ppl(path("empty_dir")));
    expect_clean_failure("/dev/zero", "an endless device as the text", ppl("/dev/zero"));
    write("short.txt", "hello world");
    expect_clean_failure(path("short.txt"), "a text shorter than one window", ppl(path("short.txt")));
}

TEST_F(BadInputsTest, HuggingFaceDirectories) {
    const test::TinyModel model = test::make_tiny_model(small_spec(), 35);
    const std::string dir = path("hf");
    auto fresh = [&] {
        fs::remove_all(dir);
        test::write_hf_model(model, dir);
        test::write_hf_tokenizer(test::tiny_vocab(), dir);
    };
    fresh();
    const std::string gen = fmt::format("generate -m '{}' -p hello -n 2", dir);
    ASSERT_EQ(run_measured(gen).code, 0) << "the unbroken directory must run";
    auto bad = [&](const std::string& file, const std::string& problem, const std::string& bytes) {
        fresh();
        write("hf/" + file, bytes);
        expect_clean_failure("hf/" + file, problem, gen);
    };
    const std::string config = test::tiny_config(model.spec).dump();
    bad("config.json", "empty file", "");
    bad("config.json", "truncated JSON", config.substr(0, config.size() / 2));
    bad("config.json", "JSON nested 100 000 deep",
        "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
    auto changed = [&](const char* key, nlohmann::json value) {
        auto c = test::tiny_config(model.spec);
        c[key] = std::move(value);
        return c.dump();
    };
    bad("config.json", "a count of the wrong type", changed("hidden_size", "32"));
    bad("config.json", "a negative count", changed("num_hidden_layers", -1));
    bad("config.json", "a number beyond float range", changed("rope_theta", 1e300));
    bad("config.json", "non-UTF-8 bytes in a string", "{\"model_type\": \"ll\xff\xfe\"}");

    const auto tensor = [&](const char* name) {
        const auto& values = model.tensors.at(name);
        return test::StTensor{name, "F32", model.shapes.at(name), test::encode_floats(values, "F32")};
    };
    std::vector<test::StTensor> all;
    for (const auto& [name, values] : model.tensors)
        all.push_back(tensor(name.c_str()));
    const std::string weights = test::safetensors_file(all);
    bad("model.safetensors", "empty file", "");
    bad("model.safetensors", "header length past the end",
        std::string("\xff\xff\xff\x00\x00\x00\x00\x00{}", 10));
    bad("model.safetensors", "truncated data", weights.substr(0, weights.size() - 4));
    bad("model.safetensors", "header that is not JSON", test::safetensors_raw("{\"a\": [", ""));
    nlohmann::ordered_json header = test::safetensors_header(all);
    uint64_t header_bytes = 0;
    std::memcpy(&header_bytes, weights.data(), 8);
    const std::string data = weights.substr(8 + header_bytes);
    auto with_header = [&](const std::function<void(nlohmann::ordered_json&)>& change) {
        nlohmann::ordered_json h = header;
        change(h);
        return test::safetensors_raw(h.dump(), data);
    };
    const std::string first = all.front().name;
    bad("model.safetensors", "an unknown dtype",
        with_header([&](auto& h) { h[first]["dtype"] = "F8_E4M3X"; }));
    bad("model.safetensors", "a shape that does not match the byte range", with_header([&](auto& h) {
            h[first]["shape"] = {3, 3};
        }));
    bad("model.safetensors", "offsets outside the file", with_header([&](auto& h) {
            h[first]["data_offsets"] = {0, uint64_t(1) << 50};
        }));
    bad("model.safetensors", "overlapping tensors", with_header([&](auto& h) {
            h[all[1].name]["data_offsets"] = h[first]["data_offsets"];
            h[all[1].name]["shape"] = h[first]["shape"];
        }));
    bad("model.safetensors", "a dimension of 2^63", with_header([&](auto& h) {
            h[first]["shape"] = {uint64_t(1) << 63, 0};
        }));
    bad("model.safetensors", "F64 weights (a dtype the engine does not load)",
        with_header([&](auto& h) { h[first]["dtype"] = "F64"; }));

    const std::string tokenizer = test::hf_tokenizer_json(test::tiny_vocab()).dump();
    bad("tokenizer.json", "truncated JSON", tokenizer.substr(0, tokenizer.size() / 3));
    bad("tokenizer.json", "not a BPE tokenizer", "{\"model\": {\"type\": \"Unigram\"}}");
}

TEST_F(BadInputsTest, NpyArrays) {
    std::vector<float> q(2 * 32, 0.5f), kv(1 * 8 * 32, 0.25f);
    write_npy(path("q.npy"), NpyType::f32, {2, 32}, q.data());
    write_npy(path("k.npy"), NpyType::f32, {1, 8, 32}, kv.data());
    write_npy(path("v.npy"), NpyType::f32, {1, 8, 32}, kv.data());
    const auto attend = [&](const std::string& k) {
        return fmt::format("attend --q '{}' --k '{}' --v '{}' --policy dense --out '{}' --indices '{}'",
                           path("q.npy"), path(k), path("v.npy"), path("out.npy"), path("indices.npy"));
    };
    ASSERT_EQ(run_measured(attend("k.npy")).code, 0);
    const std::string good = read(path("k.npy"));
    auto bad = [&](const std::string& problem, const std::string& bytes) {
        write("bad.npy", bytes);
        expect_clean_failure("bad.npy", problem, attend("bad.npy"));
    };
    const size_t header_end = good.find('\n') + 1;
    bad("empty file", "");
    bad("wrong magic", "\x93NUMPX" + good.substr(6));
    bad("version 9", good.substr(0, 6) + "\x09" + good.substr(7));
    bad("truncated in the header", good.substr(0, 20));
    bad("truncated in the data", good.substr(0, good.size() - 3));
    auto with_dict = [&](std::string dict) {
        std::string h = good.substr(0, 10);
        dict.resize(header_end - 10 - 1, ' ');
        return h + dict + "\n" + good.substr(header_end);
    };
    bad("float64 data", with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 4, 32), }"));
    bad("Fortran order", with_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 8, 32), }"));
    bad("a header that is not a dict", with_dict("[1, 2, 3]"));
    bad("a shape of 2^62 elements",
        with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 1, 32), }"));
    bad("non-UTF-8 bytes in the header",
        with_dict("{'descr': '<f\xff', 'fortran_order': False, 'shape': (1, 8, 32), }"));
    write_npy(path("k2.npy"), NpyType::f32, {1, 4, 64}, kv.data());
    expect_clean_failure("k2.npy", "keys of another head dim than the queries", attend("k2.npy"));
}

}  // namespace
}  // namespace adamas
