#ifndef CBLASKERNEL_H
#define CBLASKERNEL_H

/// OpenBLAS's name for the kernels this process runs, e.g. "Cooperlake".
const char *landscape_blas_kernel(void);

#endif
