// Where the fetch scripts put downloaded data, so every tool and test finds it the same way:
// $ADAMAS_CACHE, else ~/.cache/adamas (scripts/fetch-model.sh, scripts/fetch-corpus.sh).
#pragma once
#include <string>

namespace adamas {

std::string data_cache_dir();
// $ADAMAS_MODEL, else <cache>/models/SmolLM2-135M-Instruct.Q4_1.gguf (which may not exist).
std::string default_model_path();
// <cache>/corpus/<name>, e.g. "austen.txt" (which may not exist).
std::string corpus_path(const std::string& name);

}  // namespace adamas
