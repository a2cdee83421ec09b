// OpenBLAS built with DYNAMIC_ARCH (as Debian ships it) picks its kernels from the CPU's family and
// model number when the library loads. A model newer than the release falls back to the generic
// Prescott kernels (SSE3): on a Xeon of model 207, OpenBLAS 0.3.21 runs SGEMM at about 62 GFLOP/s on
// two cores against 230 with its Cooperlake kernels. So, before main, when OpenBLAS has fallen back
// to Prescott and the user has not named a core in OPENBLAS_CORETYPE, this names the newest kernel
// family whose instructions the CPU has in that variable and runs the program again (exec), so that
// OpenBLAS, which reads the variable as it loads, initialises once with those kernels. (An earlier
// version had the loaded library initialise a second time instead, with its threads running; a run
// then crashed, rarely, inside that second initialisation, its kernel table found empty.)
#include "CBLASKernel.h"

#include <cblas.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

const char *landscape_blas_kernel(void) { return openblas_get_corename(); }

/// The newest of OpenBLAS's x86-64 kernel families that this CPU can run, or NULL.
static const char *supported_kernel(void) {
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512cd");
    if (avx512 && __builtin_cpu_supports("avx512bf16")) return "Cooperlake";
    if (avx512) return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    if (__builtin_cpu_supports("avx")) return "Sandybridge";
    return NULL;
}

/// glibc calls the main program's constructors with `main`'s arguments.
__attribute__((constructor)) static void replace_generic_kernel(int argc, char **argv, char **envp) {
    (void)argc;
    (void)envp;
    if (getenv("OPENBLAS_CORETYPE") != NULL) return;
    if (strcmp(openblas_get_corename(), "Prescott") != 0) return;
    const char *kernel = supported_kernel();
    if (kernel == NULL || argv == NULL) return;
    // Child processes inherit the choice, so each of them starts only once.
    setenv("OPENBLAS_CORETYPE", kernel, 0);
    execv("/proc/self/exe", argv);
    // Exec failed (no /proc): the program goes on with the generic kernels, more slowly.
}
