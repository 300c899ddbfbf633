// Reference dumper: runs a GGUF model through llama.cpp's public C API (llama.h) and writes the prompt's
// token ids, its logits and a greedy continuation as .npy files, the oracle our engine is compared with.
//
// Built by scripts/reference/build-llamacpp.sh; used by scripts/reference/make-fixtures.sh.
#include <llama.h>
#include <ggml-backend.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

const char* const kUsage = R"(Usage: adamas-dump-logits -m MODEL (-p TEXT | -f FILE | --tokens IDS) -o DIR [options]

Evaluates the prompt in one batch with llama.cpp and writes into DIR (created if missing):
  tokens.npy        int32 [n]          prompt token ids
  logits_last.npy   float32 [V]        logits of the last prompt position
  logits_all.npy    float32 [n, V]     logits of every prompt position (only with --all-logits)
  greedy.npy        int32 [g]          greedy continuation (argmax, lowest id wins a tie), g <= --n-gen
  greedy_top2.npy   float32 [g, 2]     per generated token: its logit and the runner-up's logit
  meta.json                            model, options, vocabulary size, token pieces (a string, or an
                                       array of byte values when a piece is not valid UTF-8)
stdout: nothing; progress and llama.cpp's log go to stderr.

Options (defaults in brackets):
  -m FILE          GGUF model
  -p TEXT          prompt text; special tokens such as <|im_start|> are parsed, BOS is added only when
                   the model's metadata asks for it
  -f FILE          prompt text read from FILE (bytes as they are, no newline stripped)
  --tokens IDS     comma-separated token ids instead of text (no BOS added)
  -o DIR           output directory
  --all-logits     also write logits_all.npy
  --n-gen N        greedy tokens to generate [0]
  --ignore-eog     keep generating past an end-of-generation token [stop after writing it]
  --flash-attn M   on | off | auto [off]
  -t N             threads [2]
)";

struct Options {
    std::string model;
    std::string prompt;
    bool have_prompt = false;
    std::vector<llama_token> tokens;
    bool have_tokens = false;
    std::string out_dir;
    bool all_logits = false;
    int n_gen = 0;
    bool ignore_eog = false;
    llama_flash_attn_type flash_attn = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    std::string flash_attn_name = "off";
    int threads = 2;
};

[[noreturn]] void fail(const std::string& message) {
    throw std::runtime_error(message);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path + ": cannot open (" + std::strerror(errno) + ")");
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

int parse_int(const std::string& flag, const std::string& text, int lo) {
    char* end = nullptr;
    long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v < lo || v > INT32_MAX)
        fail(flag + ": '" + text + "' is not an integer >= " + std::to_string(lo));
    return static_cast<int>(v);
}

Options parse_args(int argc, char** argv) {
    Options o;
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) fail(std::string(argv[i]) + ": missing value (see --help)");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (a == "-m") {
            o.model = value(i);
        } else if (a == "-p") {
            o.prompt = value(i);
            o.have_prompt = true;
        } else if (a == "-f") {
            o.prompt = read_file(value(i));
            o.have_prompt = true;
        } else if (a == "--tokens") {
            std::stringstream list(value(i));
            for (std::string item; std::getline(list, item, ',');) o.tokens.push_back(parse_int("--tokens", item, 0));
            o.have_tokens = true;
        } else if (a == "-o") {
            o.out_dir = value(i);
        } else if (a == "--all-logits") {
            o.all_logits = true;
        } else if (a == "--n-gen") {
            o.n_gen = parse_int(a, value(i), 0);
        } else if (a == "--ignore-eog") {
            o.ignore_eog = true;
        } else if (a == "--flash-attn") {
            o.flash_attn_name = value(i);
            if (o.flash_attn_name == "on") o.flash_attn = LLAMA_FLASH_ATTN_TYPE_ENABLED;
            else if (o.flash_attn_name == "off") o.flash_attn = LLAMA_FLASH_ATTN_TYPE_DISABLED;
            else if (o.flash_attn_name == "auto") o.flash_attn = LLAMA_FLASH_ATTN_TYPE_AUTO;
            else fail("--flash-attn: '" + o.flash_attn_name + "' (expected on, off or auto)");
        } else if (a == "-t") {
            o.threads = parse_int(a, value(i), 1);
        } else {
            fail("unknown argument '" + a + "' (see --help)");
        }
    }
    if (o.model.empty()) fail("-m MODEL is required (see --help)");
    if (o.out_dir.empty()) fail("-o DIR is required (see --help)");
    if (o.have_prompt == o.have_tokens) fail("give exactly one of -p, -f or --tokens (see --help)");
    return o;
}

// .npy version 1.0: magic, header length, a Python dict literal padded with spaces so that the data
// starts at a multiple of 64 bytes, then the array in C order, little-endian.
void write_npy(const std::string& path, const char* descr, const std::vector<size_t>& shape, const void* data,
               size_t bytes) {
    std::string dims;
    for (size_t d : shape) dims += std::to_string(d) + ",";
    if (shape.size() > 1) dims.pop_back();  // (n,) for 1-D, (n,m) otherwise
    std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    const size_t preamble = 10;  // magic (6) + version (2) + header length (2)
    size_t total = preamble + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header.push_back('\n');
    if (header.size() > 0xffff) fail(path + ": .npy header too long");

    std::ofstream out(path, std::ios::binary);
    if (!out) fail(path + ": cannot create (" + std::strerror(errno) + ")");
    const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    out.write(reinterpret_cast<const char*>(magic), 8);
    const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                  static_cast<unsigned char>(header.size() >> 8)};
    out.write(reinterpret_cast<const char*>(len), 2);
    out << header;
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
    if (!out) fail(path + ": write failed");
}

std::string json_string(const std::string& s) {
    std::string r = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': r += "\\\""; break;
            case '\\': r += "\\\\"; break;
            case '\n': r += "\\n"; break;
            case '\r': r += "\\r"; break;
            case '\t': r += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    r += buf;
                } else {
                    r += static_cast<char>(c);  // UTF-8 passes through
                }
        }
    }
    return r + "\"";
}

bool valid_utf8(const std::string& s) {
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
        i += n;
    }
    return true;
}

// A token's bytes as a JSON string when they are valid UTF-8, else as an array of byte values (byte-level
// BPE splits multi-byte characters across tokens).
std::string json_piece(const std::string& bytes) {
    if (valid_utf8(bytes)) return json_string(bytes);
    std::string r = "[";
    for (size_t i = 0; i < bytes.size(); ++i)
        r += (i ? "," : "") + std::to_string(static_cast<unsigned char>(bytes[i]));
    return r + "]";
}

std::string piece(const llama_vocab* vocab, llama_token t) {
    std::vector<char> buf(64);
    int n = llama_token_to_piece(vocab, t, buf.data(), static_cast<int32_t>(buf.size()), 0, true);
    if (n < 0) {
        buf.resize(static_cast<size_t>(-n));
        n = llama_token_to_piece(vocab, t, buf.data(), static_cast<int32_t>(buf.size()), 0, true);
    }
    return std::string(buf.data(), static_cast<size_t>(n < 0 ? 0 : n));
}

// Index of the largest logit; the lowest index wins a tie so that every implementation agrees.
size_t argmax(const float* v, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; ++i)
        if (v[i] > v[best]) best = i;
    return best;
}

float runner_up(const float* v, size_t n, size_t best) {
    float r = -INFINITY;
    for (size_t i = 0; i < n; ++i)
        if (i != best && v[i] > r) r = v[i];
    return r;
}

void run(const Options& o) {
    ggml_backend_load_all();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model* model = llama_model_load_from_file(o.model.c_str(), mp);
    if (!model) fail(o.model + ": llama.cpp could not load the model");
    const llama_vocab* vocab = llama_model_get_vocab(model);
    const size_t n_vocab = static_cast<size_t>(llama_vocab_n_tokens(vocab));

    std::vector<llama_token> tokens = o.tokens;
    if (o.have_prompt) {
        const int32_t len = static_cast<int32_t>(o.prompt.size());
        int32_t n = llama_tokenize(vocab, o.prompt.data(), len, nullptr, 0, true, true);
        tokens.resize(static_cast<size_t>(n < 0 ? -n : n));
        n = llama_tokenize(vocab, o.prompt.data(), len, tokens.data(), static_cast<int32_t>(tokens.size()), true, true);
        if (n < 0) fail("tokenization failed (" + std::to_string(n) + ")");
        tokens.resize(static_cast<size_t>(n));
    }
    if (tokens.empty()) fail("the prompt has no tokens");
    for (llama_token t : tokens)
        if (t < 0 || static_cast<size_t>(t) >= n_vocab)
            fail("token id " + std::to_string(t) + " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
    const int n_prompt = static_cast<int>(tokens.size());

    // One batch and one micro-batch for the whole prompt, so that logits do not depend on how llama.cpp
    // would have split it.
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(n_prompt + o.n_gen + 1);
    cp.n_batch = static_cast<uint32_t>(n_prompt);
    cp.n_ubatch = static_cast<uint32_t>(n_prompt);
    cp.n_threads = o.threads;
    cp.n_threads_batch = o.threads;
    cp.flash_attn_type = o.flash_attn;
    cp.no_perf = true;
    llama_context* ctx = llama_init_from_model(model, cp);
    if (!ctx) fail("llama.cpp could not create a context of " + std::to_string(cp.n_ctx) + " tokens");

    llama_batch batch = llama_batch_init(n_prompt, 0, 1);
    for (int i = 0; i < n_prompt; ++i) {
        batch.token[i] = tokens[static_cast<size_t>(i)];
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = o.all_logits || i == n_prompt - 1;
    }
    batch.n_tokens = n_prompt;
    if (int rc = llama_decode(ctx, batch); rc != 0) fail("llama_decode of the prompt returned " + std::to_string(rc));
    llama_batch_free(batch);

    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    if (ec) fail(o.out_dir + ": cannot create the directory (" + ec.message() + ")");
    const std::string dir = o.out_dir + "/";
    write_npy(dir + "tokens.npy", "<i4", {tokens.size()}, tokens.data(), tokens.size() * sizeof(llama_token));
    const float* last = llama_get_logits_ith(ctx, -1);
    if (!last) fail("llama.cpp returned no logits for the last position");
    write_npy(dir + "logits_last.npy", "<f4", {n_vocab}, last, n_vocab * sizeof(float));
    if (o.all_logits) {
        std::vector<float> all(static_cast<size_t>(n_prompt) * n_vocab);
        for (int i = 0; i < n_prompt; ++i) {
            const float* row = llama_get_logits_ith(ctx, i);
            if (!row) fail("llama.cpp returned no logits for position " + std::to_string(i));
            std::memcpy(all.data() + static_cast<size_t>(i) * n_vocab, row, n_vocab * sizeof(float));
        }
        write_npy(dir + "logits_all.npy", "<f4", {static_cast<size_t>(n_prompt), n_vocab}, all.data(),
                  all.size() * sizeof(float));
    }

    // Greedy continuation: one token per llama_decode call, as an engine decodes.
    std::vector<llama_token> greedy;
    std::vector<float> top2;
    const float* logits = last;
    for (int step = 0; step < o.n_gen; ++step) {
        const size_t best = argmax(logits, n_vocab);
        llama_token t = static_cast<llama_token>(best);
        greedy.push_back(t);
        top2.push_back(logits[best]);
        top2.push_back(runner_up(logits, n_vocab, best));
        if ((!o.ignore_eog && llama_vocab_is_eog(vocab, t)) || step + 1 == o.n_gen) break;
        llama_batch one = llama_batch_get_one(&t, 1);
        if (int rc = llama_decode(ctx, one); rc != 0)
            fail("llama_decode of generated token " + std::to_string(step) + " returned " + std::to_string(rc));
        logits = llama_get_logits_ith(ctx, -1);
    }
    write_npy(dir + "greedy.npy", "<i4", {greedy.size()}, greedy.data(), greedy.size() * sizeof(llama_token));
    write_npy(dir + "greedy_top2.npy", "<f4", {greedy.size(), 2}, top2.data(), top2.size() * sizeof(float));

    char desc[256] = {0};
    llama_model_desc(model, desc, sizeof desc);
    std::ofstream meta(dir + "meta.json");
    if (!meta) fail(dir + "meta.json: cannot create (" + std::strerror(errno) + ")");
    meta << "{\n  \"model\": " << json_string(o.model) << ",\n  \"model_desc\": " << json_string(desc)
         << ",\n  \"n_vocab\": " << n_vocab << ",\n  \"n_prompt\": " << n_prompt
         << ",\n  \"add_bos\": " << (o.have_prompt && llama_vocab_get_add_bos(vocab) ? "true" : "false")
         << ",\n  \"flash_attn\": " << json_string(o.flash_attn_name) << ",\n  \"threads\": " << o.threads
         << ",\n  \"n_gen_requested\": " << o.n_gen << ",\n  \"ignore_eog\": " << (o.ignore_eog ? "true" : "false")
         << ",\n  \"prompt\": " << (o.have_prompt ? json_string(o.prompt) : "null") << ",\n  \"prompt_pieces\": [";
    for (size_t i = 0; i < tokens.size(); ++i) meta << (i ? ", " : "") << json_piece(piece(vocab, tokens[i]));
    meta << "],\n  \"greedy_pieces\": [";
    for (size_t i = 0; i < greedy.size(); ++i) meta << (i ? ", " : "") << json_piece(piece(vocab, greedy[i]));
    meta << "],\n  \"system_info\": " << json_string(llama_print_system_info()) << "\n}\n";

    llama_free(ctx);
    llama_model_free(model);
    std::fprintf(stderr, "adamas-dump-logits: %d prompt tokens, %zu generated, written to %s\n", n_prompt, greedy.size(),
                 o.out_dir.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Options o = parse_args(argc, argv);
        run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "adamas-dump-logits: %s\n", e.what());
        return 1;
    }
    return 0;
}
