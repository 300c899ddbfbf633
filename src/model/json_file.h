// A small JSON file read whole (config.json, a shard index, tokenizer files): one size cap, one set of
// errors that name the file, the problem and what the file should have been.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace adamas {

// The JSON object in `path`. Throws Error when the file cannot be read, is larger than `max_bytes`, is
// not valid JSON or is not an object; `expected` says what the file should be ("a small JSON config").
nlohmann::json read_json_object(const std::string& path, uint64_t max_bytes, std::string_view expected);

}  // namespace adamas
