// Atomic file replacement: write a uniquely named temporary next to the target, then rename it over.
#include "adamas/atomic_file.h"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "adamas/error.h"

namespace adamas {

void write_file_atomically(const std::string& path, std::initializer_list<ByteRange> parts) {
    // Same directory, so rename(2) is atomic: readers see the old file or the whole new one; the pid
    // and a counter keep concurrent writers (threads or processes) apart.
    static std::atomic<uint64_t> counter{0};
    const std::string tmp = fmt::format("{}.tmp.{}.{}", path, ::getpid(), counter.fetch_add(1));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) fail("{}: cannot create temporary file {} ({})", path, tmp, std::strerror(errno));

    auto write_all = [&](const void* src, size_t size) {
        const auto* p = static_cast<const uint8_t*>(src);
        while (size > 0) {
            const ssize_t put = ::write(fd, p, size);
            if (put < 0 && errno == EINTR) continue;
            if (put <= 0) return false;
            p += put;
            size -= size_t(put);
        }
        return true;
    };
    bool ok = true;
    for (const ByteRange& part : parts)
        ok = ok && (part.size == 0 || write_all(part.data, part.size));
    int saved = errno;
    if (::close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        ::unlink(tmp.c_str());
        fail("{}: cannot write ({})", path, std::strerror(saved));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        saved = errno;
        ::unlink(tmp.c_str());
        fail("{}: cannot rename the temporary file into place ({})", path, std::strerror(saved));
    }
}

}  // namespace adamas
