// How a LlamaModel is filled: the storage that keeps its weights alive (mapped GGUF or safetensors
// files, plus f32 vectors converted at load), and one loader per source format.
#pragma once
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adamas/gguf.h"
#include "adamas/llama.h"
#include "adamas/safetensors.h"

namespace adamas {

struct LlamaModel::Storage {
    std::optional<GgufFile> gguf;
    std::optional<SafetensorsCheckpoint> checkpoint;
    // Buffers made at load: norms and biases as f32 (the runner reads them as `const float*`) and
    // copies of matrices whose bytes are not aligned to their element size. A deque never moves them.
    std::deque<std::vector<float>> buffers;

    float* keep(std::vector<float> buffer) { return buffers.emplace_back(std::move(buffer)).data(); }
};

class LlamaLoader {
  public:
    static std::unique_ptr<LlamaModel> gguf(const std::string& path);     // llama_model.cpp
    static std::unique_ptr<LlamaModel> hf(const std::string& directory);  // llama_hf.cpp

  private:
    static std::unique_ptr<LlamaModel> empty_model(const std::string& path);
};

}  // namespace adamas
