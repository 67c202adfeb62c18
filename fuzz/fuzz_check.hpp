#pragma once
// The fuzz targets' assertion: an invariant that does not hold is a finding, reported by
// libFuzzer as a crash with the input that broke it (kept in fuzz/corpus/ once fixed).

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                 \
    do {                                                                                      \
        if (!(condition)) {                                                                   \
            std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (false)
