// Argument parsing shared by the bench subcommands: comma-separated lists and token counts with
// K/M suffixes ("32K" = 32768). Every malformed value is a UsageError naming the option.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace adamas::tools {

// Splits "a,b,c" into trimmed, non-empty items; an empty list is an error.
std::vector<std::string> split_list(std::string_view text, std::string_view option);

// "4096", "4K"/"4k" (×1024), "1M"/"1m" (×1024²). Must be ≥ 1.
int64_t parse_count(std::string_view text, std::string_view option);

// split_list + parse_count for every item.
std::vector<int64_t> parse_count_list(std::string_view text, std::string_view option);

// "128K"-style rendering of a count when it is an exact multiple, else the plain number.
std::string format_count(int64_t count);

}  // namespace adamas::tools
