// A small JSON file read whole (config.json, a shard index, tokenizer files): one size cap, one set of
// errors that name the file, the problem and what the file should have been.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace adamas {

// Parses JSON text from `path` (named in errors). Nesting deeper than 64 levels is an Error: no file we
// read needs it, and a deep enough one would exhaust memory and the stack of whatever walks it.
nlohmann::json parse_json(std::string_view text, const std::string& path);

// A value as an error message shows it: scalars and short flat containers as JSON, anything nested or
// long cut to its kind and size ("an array of 3 items"); never recursive, never longer than ~100 bytes.
std::string json_excerpt(const nlohmann::json& value);

// The JSON object in `path`. Throws Error when the file cannot be read, is larger than `max_bytes`, is
// not valid JSON or is not an object; `expected` says what the file should be ("a small JSON config").
nlohmann::json read_json_object(const std::string& path, uint64_t max_bytes, std::string_view expected);

}  // namespace adamas
