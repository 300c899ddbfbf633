// The size cap is checked before reading, so a wrong path (a weights file, a device) fails at once
// instead of being read into memory.
#include "model/json_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

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
    // file_size can be wrong for special files (a /proc entry reads longer than it says).
    if (text.view().size() > max_bytes)
        fail("{}: larger than {} bytes (expected {})", path, max_bytes, expected);
    nlohmann::json json = parse_json(text.view(), path);
    if (!json.is_object()) fail("{}: is a JSON {} (expected an object)", path, json.type_name());
    return json;
}

nlohmann::json parse_json(std::string_view text, const std::string& path) {
    constexpr int kMaxDepth = 64;
    // The callback sees every value with its depth; throwing from it stops the parse at once.
    auto limit_depth = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > kMaxDepth) fail("{}: JSON nested deeper than {} levels", path, kMaxDepth);
        return true;
    };
    try {
        return nlohmann::json::parse(text, limit_depth);
    } catch (const nlohmann::json::exception& e) {
        fail("{}: not valid JSON ({})", path, printable(e.what(), 300));
    }
}

std::string json_excerpt(const nlohmann::json& value) {
    constexpr size_t kMaxChars = 100;
    if (value.is_structured()) {
        bool flat = value.size() <= 8;
        for (const auto& item : value)
            flat = flat && !item.is_structured();
        if (!flat)
            return value.is_array() ? fmt::format("an array of {} items", value.size())
                                    : fmt::format("an object of {} keys", value.size());
    }
    std::string shown = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (shown.size() > kMaxChars) shown = shown.substr(0, kMaxChars) + "...";
    return shown;
}

}  // namespace adamas
