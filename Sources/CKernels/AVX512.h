// What the kernels' files share: each kernel is compiled for AVX-512F on its own (the rest of the
// program is not), and called only where `landscape_has_avx512` says so.
#ifndef LANDSCAPE_AVX512_H
#define LANDSCAPE_AVX512_H

#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

/// Fully unrolls the loop that follows (whose bounds are constants once the function is inlined):
/// the package builds C at -O2, which would otherwise leave the sums of a tile on the stack.
#define UNROLL _Pragma("clang loop unroll(full)")

#endif
