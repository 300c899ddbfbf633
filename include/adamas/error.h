// The one error type of the library: a message that names the input, the problem and what was expected.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace adamas {

// Raised for bad user input (files, shapes, options). Never used for internal invariants.
class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Bad options or option combinations (exit code 1 in the CLI) rather than bad input data.
class UsageError : public Error {
  public:
    using Error::Error;
};

// Text from an untrusted file as an error message shows it: valid UTF-8 kept, control characters and
// bytes that are not UTF-8 written \xNN, quotes and backslashes escaped, cut after max_chars bytes.
std::string printable(std::string_view text, size_t max_chars = 80);

template <typename... Args>
[[noreturn]] void fail_usage(fmt::format_string<Args...> format, Args&&... args) {
    throw UsageError(fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
    throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Internal invariant that stays on in release builds; user input must never reach it.
#define ADAMAS_ASSERT(cond)                                                      \
    do {                                                                         \
        if (!(cond)) ::adamas::detail::assert_failed(#cond, __FILE__, __LINE__); \
    } while (0)

namespace detail {
[[noreturn]] void assert_failed(const char* condition, const char* file, int line);
}

}  // namespace adamas
