// Parsing of list and count options for the bench subcommands (see bench_args.h).
#include "bench_args.h"

#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "adamas/error.h"

namespace adamas::tools {

std::vector<std::string> split_list(std::string_view text, std::string_view option) {
    std::vector<std::string> items;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(',', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view item = text.substr(start, end - start);
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
            item.remove_suffix(1);
        if (item.empty()) fail_usage("{} '{}': empty item (expected a comma-separated list)", option, text);
        items.emplace_back(item);
        start = end + 1;
    }
    return items;
}

int64_t parse_count(std::string_view text, std::string_view option) {
    int64_t scale = 1;
    std::string_view digits = text;
    if (!digits.empty()) {
        char last = digits.back();
        if (last == 'K' || last == 'k') scale = int64_t(1) << 10;
        if (last == 'M' || last == 'm') scale = int64_t(1) << 20;
        if (scale != 1) digits.remove_suffix(1);
    }
    int64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
        fail_usage("{} '{}': not a count (expected an integer, optionally with a K or M suffix, e.g. 32K)",
                   option, text);
    if (value < 1) fail_usage("{} '{}': must be at least 1", option, text);
    if (value > std::numeric_limits<int32_t>::max() / scale)
        fail_usage("{} '{}': too large (at most {})", option, text, std::numeric_limits<int32_t>::max());
    return value * scale;
}

std::vector<int64_t> parse_count_list(std::string_view text, std::string_view option) {
    std::vector<int64_t> values;
    for (const std::string& item : split_list(text, option))
        values.push_back(parse_count(item, option));
    return values;
}

std::string format_count(int64_t count) {
    if (count >= (1 << 20) && count % (1 << 20) == 0) return fmt::format("{}M", count >> 20);
    if (count >= (1 << 10) && count % (1 << 10) == 0) return fmt::format("{}K", count >> 10);
    return fmt::format("{}", count);
}

}  // namespace adamas::tools
