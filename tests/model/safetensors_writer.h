// A minimal safetensors writer for tests: tensors laid out in order behind a JSON header padded to 8
// bytes, as the reference writer does, plus a raw form that writes whatever header it is given.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adamas/dtype.h"

namespace adamas::test {

struct StTensor {
    std::string name;
    std::string dtype;  // "F32", "BF16", ...
    std::vector<int64_t> shape;
    std::string data;  // exactly the tensor's bytes
};

// Floats encoded as "F32", "F16" or "BF16" bytes.
inline std::string encode_floats(const std::vector<float>& values, const std::string& dtype) {
    std::string out;
    for (float v : values) {
        if (dtype == "F32") {
            out.append(reinterpret_cast<const char*>(&v), 4);
        } else {
            const uint16_t h = dtype == "F16" ? f32_to_f16(v) : f32_to_bf16(v);
            out.append(reinterpret_cast<const char*>(&h), 2);
        }
    }
    return out;
}

// The header JSON of `tensors`, their data placed one after another in the given order.
inline nlohmann::ordered_json safetensors_header(const std::vector<StTensor>& tensors,
                                                 bool with_metadata = true) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (with_metadata) header["__metadata__"] = {{"format", "pt"}};
    uint64_t offset = 0;
    for (const StTensor& t : tensors) {
        header[t.name] = {
            {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
        offset += t.data.size();
    }
    return header;
}

// A file from a header's text and the data section: 8-byte length, header padded with spaces to a
// multiple of 8, data.
inline std::string safetensors_raw(std::string header, const std::string& data) {
    header.resize((header.size() + 7) / 8 * 8, ' ');
    std::string out(8, '\0');
    const uint64_t length = header.size();
    std::memcpy(out.data(), &length, 8);
    return out + header + data;
}

inline std::string safetensors_file(const std::vector<StTensor>& tensors) {
    std::string data;
    for (const StTensor& t : tensors)
        data += t.data;
    return safetensors_raw(safetensors_header(tensors).dump(), data);
}

}  // namespace adamas::test
