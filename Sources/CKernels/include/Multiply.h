#ifndef LANDSCAPE_MULTIPLY_H
#define LANDSCAPE_MULTIPLY_H

#include <stddef.h>

// The kernels need AVX-512F (`landscape_has_avx512`); `columns` is a multiple of 16.

/// `c[r][j] = sum over k of a[r * rowStride + k * depthStride] * b[k][j]` for `r < rows`,
/// `j < columns` and `k < depth`, added in the order of `k` from zero, one fused multiply-add per
/// term. `b`'s rows are `bRow` values apart, `c`'s `cRow`. With the strides `a` is a row-major
/// matrix (`depthStride` 1) or the transpose of one (`rowStride` 1), so this is a matrix product
/// with either operand transposed, read in place.
void landscape_multiply(const float *a, ptrdiff_t rows, ptrdiff_t rowStride, ptrdiff_t depthStride, ptrdiff_t depth,
                        const float *b, ptrdiff_t bRow, ptrdiff_t columns, float *c, ptrdiff_t cRow);

/// `destination[j][i] = source[i][j]` for `i < rows` and `j < columns`; the rows of `source` are
/// `sourceRow` values apart, those of `destination` `destinationRow`.
void landscape_transpose(const float *source, ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t sourceRow,
                         float *destination, ptrdiff_t destinationRow);

#endif
