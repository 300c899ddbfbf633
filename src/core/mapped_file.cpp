// Read-only memory maps of model files.
#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "adamas/error.h"

namespace adamas {

namespace {

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

MappedFile MappedFile::open(const std::string& path, std::string_view kind) {
    Fd file;
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0) fail("{}: cannot open ({})", path, std::strerror(errno));
    struct stat st {};
    if (::fstat(file.fd, &st) != 0) fail("{}: cannot stat ({})", path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) fail("{}: is a directory (expected a {})", path, kind);
    if (!S_ISREG(st.st_mode)) fail("{}: is not a regular file (expected a {})", path, kind);
    if (st.st_size == 0) fail("{}: file is empty (expected a {})", path, kind);
    // The mapping stays valid after the descriptor is closed.
    void* p = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, file.fd, 0);
    if (p == MAP_FAILED) fail("{}: cannot memory-map {} bytes ({})", path, st.st_size, std::strerror(errno));
    MappedFile m;
    m.data_ = static_cast<const uint8_t*>(p);
    m.size_ = uint64_t(st.st_size);
    return m;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace adamas
