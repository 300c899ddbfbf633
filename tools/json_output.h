// JSON results of the subcommands (--json FILE): pretty-printed, written atomically.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace adamas::tools {

// Writes `json` with two-space indents and a final newline to `path` through a temporary file, so an
// interrupted run never leaves half a file. Strings that are not UTF-8 (a generated answer cut inside a
// character) are written with U+FFFD in their place.
void write_json_file(const std::string& path, const nlohmann::ordered_json& json);

}  // namespace adamas::tools
