// NumPy .npy reader and writer (format versions 1.0, 2.0 and 3.0). Every check happens before any
// allocation sized by the file's claims, so a corrupt header can neither crash nor exhaust memory.
#include "adamas/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string_view>

#include "adamas/atomic_file.h"
#include "adamas/dtype.h"
#include "adamas/error.h"

namespace adamas {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// NumPy aligns the data to 64 bytes so arrays can be memory-mapped with any SIMD width.
constexpr size_t kAlignment = 64;

int type_size(NpyType t) {
    return t == NpyType::f32 || t == NpyType::i32 ? 4 : 2;
}

std::string_view type_descr(NpyType t) {
    switch (t) {
        case NpyType::f32:
            return "<f4";
        case NpyType::f16:
            return "<f2";
        case NpyType::i32:
            return "<i4";
        case NpyType::u16:
            return "<u2";
    }
    return "?";
}

// Closes the descriptor on every path out of the reader.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Reads exactly `size` bytes at `offset`; false if the file ends first.
bool read_exact(int fd, int64_t offset, void* dst, size_t size) {
    auto* p = static_cast<uint8_t*>(dst);
    while (size > 0) {
        ssize_t got = ::pread(fd, p, size, offset);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        p += got;
        offset += got;
        size -= size_t(got);
    }
    return true;
}

// A minimal parser for the Python dict literal NumPy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
  public:
    HeaderParser(const std::string& path, std::string_view text) : path_(path), text_(text) {}

    void parse(std::string& descr, bool& fortran_order, std::vector<int64_t>& shape) {
        bool have_descr = false, have_order = false, have_shape = false;
        skip_space();
        expect('{');
        for (;;) {
            skip_space();
            if (peek() == '}') break;
            std::string key = string_literal();
            skip_space();
            expect(':');
            skip_space();
            if (key == "descr") {
                descr = string_literal();
                have_descr = !duplicate(have_descr, key);
            } else if (key == "fortran_order") {
                fortran_order = boolean();
                have_order = !duplicate(have_order, key);
            } else if (key == "shape") {
                shape = tuple();
                have_shape = !duplicate(have_shape, key);
            } else {
                fail(
                    "{}: unexpected key '{}' in the .npy header (expected 'descr', 'fortran_order', 'shape')",
                    path_, key);
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            skip_space();
            if (peek() != '}') bad("',' or '}'");
        }
        ++pos_;
        // NumPy pads with spaces and ends the header with '\n'.
        skip_space();
        if (pos_ != text_.size()) bad("only padding after the closing '}'");
        if (!have_descr || !have_order || !have_shape)
            fail("{}: .npy header lacks '{}' (expected 'descr', 'fortran_order' and 'shape')", path_,
                 !have_descr   ? "descr"
                 : !have_order ? "fortran_order"
                               : "shape");
    }

  private:
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void skip_space() {
        while (pos_ < text_.size() &&
               (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' || text_[pos_] == '\r'))
            ++pos_;
    }
    [[noreturn]] void bad(std::string_view expected) const {
        std::string_view rest = text_.substr(pos_, 40);
        fail("{}: malformed .npy header at offset {} near \"{}\" (expected {})", path_, pos_, rest, expected);
    }
    void expect(char c) {
        if (peek() != c) bad(fmt::format("'{}'", c));
        ++pos_;
    }
    bool duplicate(bool seen, const std::string& key) const {
        if (seen) fail("{}: key '{}' appears twice in the .npy header", path_, key);
        return false;
    }
    std::string string_literal() {
        char quote = peek();
        if (quote != '\'' && quote != '"') bad("a quoted string");
        size_t end = text_.find(quote, pos_ + 1);
        if (end == std::string_view::npos) bad("a closing quote");
        std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
        pos_ = end + 1;
        return s;
    }
    bool boolean() {
        if (text_.substr(pos_, 4) == "True") {
            pos_ += 4;
            return true;
        }
        if (text_.substr(pos_, 5) == "False") {
            pos_ += 5;
            return false;
        }
        bad("True or False");
    }
    int64_t integer() {
        if (peek() < '0' || peek() > '9') bad("a non-negative integer dimension");
        int64_t value = 0;
        while (peek() >= '0' && peek() <= '9') {
            int digit = peek() - '0';
            if (value > (std::numeric_limits<int64_t>::max() - digit) / 10)
                fail("{}: .npy shape dimension is too large", path_);
            value = value * 10 + digit;
            ++pos_;
        }
        return value;
    }
    // "()", "(n,)" or "(a, b, ...)" with an optional trailing comma.
    std::vector<int64_t> tuple() {
        std::vector<int64_t> dims;
        expect('(');
        skip_space();
        while (peek() != ')') {
            dims.push_back(integer());
            skip_space();
            if (peek() == ',') {
                ++pos_;
                skip_space();
            } else if (peek() != ')') {
                bad("',' or ')' in the shape");
            }
        }
        ++pos_;
        return dims;
    }

    const std::string& path_;
    std::string_view text_;
    size_t pos_ = 0;
};

NpyType parse_descr(const std::string& path, const std::string& descr) {
    if (descr.size() == 3 && descr[0] == '>')
        fail("{}: big-endian data ('{}') is not supported (expected little-endian, e.g. '<{}')", path, descr,
             descr.substr(1));
    // '=' is native order, little-endian on every platform we build for; '|' means "not applicable"
    // and only fits 1-byte types, none of which we read.
    static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");
    if (descr.size() == 3 && (descr[0] == '<' || descr[0] == '=')) {
        std::string_view kind = std::string_view(descr).substr(1);
        if (kind == "f4") return NpyType::f32;
        if (kind == "f2") return NpyType::f16;
        if (kind == "i4") return NpyType::i32;
        if (kind == "u2") return NpyType::u16;
    }
    fail("{}: unsupported dtype '{}' (expected float32 '<f4', float16 '<f2', int32 '<i4' or uint16 '<u2')",
         path, printable(descr));
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1) s += ",";
    return s + ")";
}

}  // namespace

int64_t NpyArray::elements() const {
    int64_t n = 1;
    for (int64_t dim : shape)
        n *= dim;
    return n;
}

std::vector<float> NpyArray::to_f32() const {
    std::vector<float> out(static_cast<size_t>(elements()));
    if (type == NpyType::f32) {
        if (!out.empty()) std::memcpy(out.data(), data.data(), out.size() * sizeof(float));
    } else if (type == NpyType::f16) {
        const auto* src = reinterpret_cast<const uint16_t*>(data.data());
        for (size_t i = 0; i < out.size(); ++i)
            out[i] = f16_to_f32(src[i]);
    } else {
        fail("to_f32: array of type {} cannot be converted (expected float32 or float16)", type_descr(type));
    }
    return out;
}

NpyArray read_npy(const std::string& path) {
    Fd file;
    file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file.fd < 0) fail("{}: cannot open ({})", path, std::strerror(errno));
    struct stat st {};
    if (::fstat(file.fd, &st) != 0) fail("{}: cannot stat ({})", path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) fail("{}: is a directory (expected a .npy file)", path);
    if (!S_ISREG(st.st_mode)) fail("{}: is not a regular file (expected a .npy file)", path);
    const int64_t file_size = st.st_size;

    uint8_t preamble[12];
    if (file_size < 10 || !read_exact(file.fd, 0, preamble, 10))
        fail("{}: file is {} bytes, too short for a .npy header (at least 10 bytes)", path, file_size);
    if (std::memcmp(preamble, kMagic, kMagicSize) != 0)
        fail("{}: not a .npy file (the first 6 bytes are not \\x93NUMPY)", path);
    const int major = preamble[6], minor = preamble[7];
    if (major < 1 || major > 3 || minor != 0)
        fail("{}: unsupported .npy format version {}.{} (expected 1.0, 2.0 or 3.0)", path, major, minor);

    // Version 1.0 stores a 2-byte header length; 2.0 and 3.0 (UTF-8 header) a 4-byte one.
    int64_t header_start, header_len;
    if (major == 1) {
        header_start = 10;
        header_len = preamble[8] | (int64_t(preamble[9]) << 8);
    } else {
        if (file_size < 12 || !read_exact(file.fd, 10, preamble + 10, 2))
            fail("{}: file is {} bytes, too short for a version {}.0 .npy header (at least 12 bytes)", path,
                 file_size, major);
        header_start = 12;
        header_len = int64_t(preamble[8]) | (int64_t(preamble[9]) << 8) | (int64_t(preamble[10]) << 16) |
                     (int64_t(preamble[11]) << 24);
    }
    const int64_t data_start = header_start + header_len;
    if (data_start > file_size)
        fail("{}: .npy header length {} runs past the end of the file ({} bytes)", path, header_len,
             file_size);

    std::string header(size_t(header_len), '\0');
    if (!read_exact(file.fd, header_start, header.data(), header.size()))
        fail("{}: could not read the {}-byte .npy header", path, header_len);

    std::string descr;
    bool fortran_order = false;
    NpyArray array;
    HeaderParser(path, header).parse(descr, fortran_order, array.shape);
    array.type = parse_descr(path, descr);
    if (fortran_order && array.shape.size() > 1)
        fail(
            "{}: Fortran-order (column-major) arrays are not supported (save with C order, e.g. "
            "np.ascontiguousarray)",
            path);

    // Compare against the file size with overflow-safe arithmetic before allocating anything.
    const int64_t available = file_size - data_start;
    const int64_t item = type_size(array.type);
    int64_t elements = 1;
    bool overflow = false;
    for (int64_t dim : array.shape) {
        if (dim != 0 && elements > std::numeric_limits<int64_t>::max() / item / dim) overflow = true;
        elements *= overflow ? 1 : dim;
    }
    if (overflow || elements * item > available)
        fail(
            "{}: shape {} of '{}' needs more data than the file holds ({} bytes after the header): truncated",
            path, shape_text(array.shape), descr, available);
    if (elements * item < available)
        fail("{}: {} trailing bytes after the data of shape {} of '{}' (expected exactly {} bytes)", path,
             available - elements * item, shape_text(array.shape), descr, elements * item);

    array.data.resize(size_t(elements * item));
    if (!read_exact(file.fd, data_start, array.data.data(), array.data.size()))
        fail("{}: could not read {} bytes of data (file changed while reading?)", path, array.data.size());
    return array;
}

void write_npy(const std::string& path, NpyType type, const std::vector<int64_t>& shape, const void* data) {
    int64_t elements = 1;
    for (int64_t dim : shape) {
        if (dim < 0) fail("{}: cannot write an array with negative dimension {}", path, dim);
        elements *= dim;
    }
    const size_t data_bytes = size_t(elements) * size_t(type_size(type));

    std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   type_descr(type), shape_text(shape));
    // Version 1.0 when the header fits its 2-byte length, as NumPy itself does.
    const bool v1 = dict.size() + 1 + 10 <= 65535;
    const size_t prefix = v1 ? 10 : 12;
    size_t total = prefix + dict.size() + 1;
    size_t padding = (kAlignment - total % kAlignment) % kAlignment;
    std::string header = dict + std::string(padding, ' ') + "\n";
    const uint32_t header_len = uint32_t(header.size());

    std::string preamble(kMagic, kMagicSize);
    preamble += char(v1 ? 1 : 2);
    preamble += char(0);
    preamble += char(header_len & 0xff);
    preamble += char((header_len >> 8) & 0xff);
    if (!v1) {
        preamble += char((header_len >> 16) & 0xff);
        preamble += char((header_len >> 24) & 0xff);
    }

    write_file_atomically(
        path, {{preamble.data(), preamble.size()}, {header.data(), header.size()}, {data, data_bytes}});
}

}  // namespace adamas
