// Failure path of ADAMAS_ASSERT: internal invariants abort loudly with their location.
#include <cstdio>
#include <cstdlib>

#include "adamas/error.h"

namespace adamas::detail {

void assert_failed(const char* condition, const char* file, int line) {
    std::fprintf(stderr, "adamas: internal error: %s (%s:%d)\n", condition, file, line);
    std::abort();
}

}  // namespace adamas::detail
