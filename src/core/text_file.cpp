// The size is checked before reading, and the read is bounded too, since a special file can say one size
// and deliver another.
#include "adamas/text_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "adamas/error.h"

namespace adamas {

std::string read_text_file(const std::string& path, std::string_view what) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status))
        fail("{}: cannot read {} ({})", path, what, ec ? ec.message() : "no such file");
    if (fs::is_directory(status)) fail("{}: is a directory (expected {}, a text file)", path, what);
    if (!fs::is_regular_file(status))
        fail("{}: is not a regular file (expected {}, a text file)", path, what);
    const uintmax_t size = fs::file_size(path, ec);
    if (ec) fail("{}: cannot read {} ({})", path, what, ec.message());
    if (size > kMaxTextFileBytes)
        fail("{}: {} bytes is larger than the {} bytes a text may have (expected {}; split it)", path, size,
             kMaxTextFileBytes, what);
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: cannot read {} ({})", path, what, std::strerror(errno));
    std::string text(size, '\0');
    in.read(text.data(), std::streamsize(size));
    if (in.gcount() != std::streamsize(size) || in.bad())
        fail("{}: read {} of {} bytes (the file changed or could not be read)", path, in.gcount(), size);
    return text;
}

}  // namespace adamas
