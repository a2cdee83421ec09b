#ifndef LANDSCAPE_BATCH_NORM_H
#define LANDSCAPE_BATCH_NORM_H

#include <stddef.h>

// The kernels need AVX-512F (`landscape_has_avx512`) and take a multiple of 16 channels up to 64,
// so that every per-channel value of a row stays in a register.

/// Per block of `block` rows (the last maybe shorter), the sums of each value's deviation from the
/// block's first row and of its square, to `out` (`[blocks][2][channels]`): the statistics' pass.
void landscape_batch_norm_block_sums(const float *x, ptrdiff_t rows, ptrdiff_t channels, ptrdiff_t block, float *out);

/// `y = max(scale * ((x - center) * invStd) + shift, floor)` per channel, with `residual` (or NULL)
/// added before the maximum; a NaN stays NaN.
void landscape_batch_norm_normalize(const float *x, const float *residual, ptrdiff_t rows, ptrdiff_t channels, const float *center,
                                    const float *invStd, const float *scale, const float *shift, float floor, float *y);

/// The normalised values (`floor` as above, no residual) of images of `height x width` rows, both
/// even, pooled by 2x2 windows (`[images][height / 2][width / 2][channels]`): each window's maximum
/// to `y` and its position in the window (0 to 3 in scan order, as a float) to `positions`; the
/// first maximum in scan order wins, and a NaN wins and stays.
void landscape_batch_norm_normalize_pooled(const float *x, ptrdiff_t height, ptrdiff_t width, ptrdiff_t rows, ptrdiff_t channels,
                                           const float *center, const float *invStd, const float *scale, const float *shift, float floor,
                                           float *y, float *positions);

/// Training batch-norm's backward over channels-last rows (`[rows][channels]`), with `xhat = (x -
/// center) * invStd` and `g` the output gradient where it passes the ReLU (with `rectifies`, where
/// `scale * xhat + shift > 0`), else 0: adds `sum(g)` and `sum(g * xhat)` per channel to `sums`
/// (`[2][channels]`), summed in float over blocks of `block` rows and the blocks in double.
/// The output gradient is `dy`, row by row; or, where `positions` is not NULL (a 2x2 max-pool taken
/// in batch-norm's pass over images of `height x width` rows, both even), `dy` is the pooled
/// gradient, `[images][height / 2][width / 2][channels]`, and a row's is its window's where the
/// pool's recorded `positions` (same layout, 0 to 3 in scan order) name the row, else 0.
/// Products and sums are rounded one at a time, no fused multiply-add.
void landscape_batch_norm_gradient_sums(const float *x, const float *dy, const float *positions, ptrdiff_t height, ptrdiff_t width,
                                        ptrdiff_t rows, ptrdiff_t channels, const float *center, const float *invStd, const float *scale,
                                        const float *shift, int rectifies, ptrdiff_t block, double *sums);

/// Then `dx = factor * (count * g - dyTotal - xhat * dyXhatTotal)` per channel, rounded as written.
void landscape_batch_norm_input_gradient(const float *x, const float *dy, const float *positions, ptrdiff_t height, ptrdiff_t width,
                                         ptrdiff_t rows, ptrdiff_t channels, const float *center, const float *invStd, const float *scale,
                                         const float *shift, int rectifies, const float *factor, const float *dyTotal,
                                         const float *dyXhatTotal, float count, float *dx);

#endif
