// Reading a text file the user named (a prompt, a corpus, a pass-key haystack) whole, with the checks a
// path from the command line needs: a directory, a device or a file too large to tokenize at once is an
// Error naming the file, not a hang or an out-of-memory.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace adamas {

inline constexpr uint64_t kMaxTextFileBytes = uint64_t(1) << 30;  // the tokenizer's limit for one text

// The bytes of `path`; `what` says what the file is for ("the prompt file"). Error when it is missing,
// unreadable, not a regular file, or larger than kMaxTextFileBytes.
std::string read_text_file(const std::string& path, std::string_view what);

}  // namespace adamas
