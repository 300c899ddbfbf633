// Fuzzes the safetensors reader: the 8-byte header length, the JSON header and the tensors' byte ranges.
// Only adamas::Error may come out, and every tensor of a valid file must lie inside it.
#include <cstdint>
#include <cstdlib>

#include "adamas/error.h"
#include "adamas/safetensors.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    adamas::fuzz::MemoryFile input(data, size);
    try {
        auto file = adamas::SafetensorsFile::open(input.path());
        for (const auto& t : file.tensors()) {
            if (t.begin > t.end || file.data_offset() + t.end > file.file_size()) std::abort();
            (void)file.find(t.name);
        }
    } catch (const adamas::Error&) {
    }
    return 0;
}
