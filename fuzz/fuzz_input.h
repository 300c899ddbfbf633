// The fuzz input as the readers see real input: a file with a path. memfd_create gives a regular file
// in memory (mmap, pread and its size all work), named /proc/self/fd/N, at no disk cost per run.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>

namespace adamas::fuzz {

class MemoryFile {
  public:
    MemoryFile(const uint8_t* data, size_t size) : fd_(memfd_create("fuzz-input", MFD_CLOEXEC)) {
        if (fd_ < 0) std::abort();
        for (size_t done = 0; done < size;) {
            ssize_t n = ::write(fd_, data + done, size - done);
            if (n <= 0) std::abort();
            done += size_t(n);
        }
    }
    MemoryFile(const MemoryFile&) = delete;
    MemoryFile& operator=(const MemoryFile&) = delete;
    ~MemoryFile() { ::close(fd_); }

    std::string path() const { return fmt::format("/proc/self/fd/{}", fd_); }

  private:
    int fd_;
};

// A directory of this process for inputs that are directories (a Hugging Face model directory); the
// target rewrites its files on every run.
inline const std::filesystem::path& scratch_directory() {
    static const std::filesystem::path dir = [] {
        auto d = std::filesystem::temp_directory_path() / fmt::format("adamas-fuzz-{}", ::getpid());
        std::filesystem::create_directories(d);
        std::atexit([] {
            std::error_code ignored;
            std::filesystem::remove_all(scratch_directory(), ignored);
        });
        return d;
    }();
    return dir;
}

}  // namespace adamas::fuzz
