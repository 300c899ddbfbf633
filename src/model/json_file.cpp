// The size cap is checked before reading, so a wrong path (a weights file, a device) fails at once
// instead of being read into memory.
#include "model/json_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "adamas/error.h"

namespace adamas {

nlohmann::json read_json_object(const std::string& path, uint64_t max_bytes, std::string_view expected) {
    std::ifstream in(path, std::ios::binary);
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(path, ec);
    if (!in || ec) fail("{}: cannot read (expected {})", path, expected);
    if (size > max_bytes) fail("{}: larger than {} bytes (expected {})", path, max_bytes, expected);
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::exception& e) {
        fail("{}: not valid JSON ({})", path, e.what());
    }
    if (!json.is_object()) fail("{}: is a JSON {} (expected an object)", path, json.type_name());
    return json;
}

}  // namespace adamas
