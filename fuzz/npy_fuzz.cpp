// Fuzzes the .npy reader: any bytes either read as an array whose data matches its header, or fail with
// adamas::Error. Anything else (another exception, a sanitizer report) is a finding.
#include <cstdint>

#include "adamas/error.h"
#include "adamas/npy.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    adamas::fuzz::MemoryFile file(data, size);
    try {
        adamas::NpyArray array = adamas::read_npy(file.path());
        if (array.type == adamas::NpyType::f32 || array.type == adamas::NpyType::f16) {
            volatile size_t n = array.to_f32().size();
            (void)n;
        }
    } catch (const adamas::Error&) {
    }
    return 0;
}
