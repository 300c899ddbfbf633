// Locations of the fetch scripts' downloads, shared by the tools and the tests.
#include "adamas/data_paths.h"

#include <cstdlib>

namespace adamas {

std::string data_cache_dir() {
    if (const char* cache = std::getenv("ADAMAS_CACHE"); cache && *cache) return cache;
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : ".") + "/.cache/adamas";
}

std::string default_model_path() {
    if (const char* model = std::getenv("ADAMAS_MODEL"); model && *model) return model;
    return data_cache_dir() + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

std::string corpus_path(const std::string& name) {
    return data_cache_dir() + "/corpus/" + name;
}

}  // namespace adamas
