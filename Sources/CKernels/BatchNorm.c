// Batch-norm's passes over channels-last rows of 16 to 64 channels: the statistics' sums, the
// normalisation, and training backward's sums and input gradient. Every per-channel value (the
// mean, 1 / std, scale and shift, the sums or the coefficients) stays in a register for the whole
// pass, where a loop over the channels inside a loop over rows would load each again for every row
// and keep its sums in memory.
#include "BatchNorm.h"

#include "AVX512.h"

/// The per-channel values both passes read, `VECTORS` vectors of 16 channels each.
typedef struct { __m512 center[4], invStd[4], scale[4], shift[4]; } Channels;

AVX512 __attribute__((always_inline)) static inline void loadChannels(Channels *to, const float *center, const float *invStd,
                                                                     const float *scale, const float *shift, const int VECTORS) {
    UNROLL for (int v = 0; v < VECTORS; v++) {
        to->center[v] = _mm512_loadu_ps(center + 16 * v);
        to->invStd[v] = _mm512_loadu_ps(invStd + 16 * v);
        to->scale[v] = _mm512_loadu_ps(scale + 16 * v);
        to->shift[v] = _mm512_loadu_ps(shift + 16 * v);
    }
}

/// `xhat` of vector `v` of a row, and `g`, its output gradient (`dy`; with `POOLED`, where the
/// recorded positions `taken` equal `here`, else 0) where it passes the ReLU.
AVX512 __attribute__((always_inline)) static inline __m512 normalized(const Channels *k, const float *x, const float *dy,
                                                                     const float *taken, __m512 here, int v, int rectifies,
                                                                     const int POOLED, __m512 *g) {
    const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + 16 * v), k->center[v]), k->invStd[v]);
    __m512 gradient = _mm512_loadu_ps(dy + 16 * v);
    if (POOLED) gradient = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_loadu_ps(taken + 16 * v), here, _CMP_EQ_OQ), gradient);
    if (rectifies) {
        const __mmask16 passes = _mm512_cmp_ps_mask(_mm512_add_ps(_mm512_mul_ps(k->scale[v], xhat), k->shift[v]), _mm512_setzero_ps(),
                                                     _CMP_GT_OQ);
        gradient = _mm512_maskz_mov_ps(passes, gradient);
    }
    *g = gradient;
    return xhat;
}

/// Adds the 16 floats of `value` to the 16 doubles at `to`.
AVX512 static inline void addToDoubles(double *to, __m512 value) {
    const __m512d low = _mm512_cvtps_pd(_mm512_castps512_ps256(value));
    const __m512d high = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(value), 1)));
    _mm512_storeu_pd(to, _mm512_add_pd(_mm512_loadu_pd(to), low));
    _mm512_storeu_pd(to + 8, _mm512_add_pd(_mm512_loadu_pd(to + 8), high));
}

/// The arguments both passes take: the rows, where their output gradient is, and the per-channel
/// values.
#define ROW_PARAMETERS const float *x, const float *dy, const float *positions, ptrdiff_t height, ptrdiff_t width, ptrdiff_t rows, \
    ptrdiff_t channels, const float *center, const float *invStd, const float *scale, const float *shift
#define ROW_ARGUMENTS x, dy, positions, height, width, rows, channels, center, invStd, scale, shift

/// Where row `row`, pixel `(iy, ix)` of its image, finds its output gradient: its own row of `dy`
/// or, with `POOLED`, its 2x2 window's row of the pooled `dy` and of `positions`; `here` is its
/// position in the window as the pool records it.
typedef struct { const float *gradient, *taken; __m512 here; } Source;

AVX512 __attribute__((always_inline)) static inline Source source(const float *dy, const float *positions, ptrdiff_t row, ptrdiff_t image,
                                                                 ptrdiff_t iy, ptrdiff_t ix, ptrdiff_t height, ptrdiff_t width,
                                                                 ptrdiff_t channels, const int POOLED) {
    if (!POOLED) return (Source){ dy + row * channels, NULL, _mm512_setzero_ps() };
    const ptrdiff_t window = ((image * (height / 2) + iy / 2) * (width / 2) + ix / 2) * channels;
    return (Source){ dy + window, positions + window, _mm512_set1_ps((float)((iy & 1) * 2 + (ix & 1))) };
}

/// The loops over images, their rows and columns (or, without pooling, over the rows alone), in
/// the rows' order.
#define FOR_EACH_ROW(POOLED) \
    const ptrdiff_t images = POOLED ? rows / (height * width) : 1, imageHeight = POOLED ? height : rows, imageWidth = POOLED ? width : 1; \
    ptrdiff_t row = 0; \
    for (ptrdiff_t image = 0; image < images; image++) \
        for (ptrdiff_t iy = 0; iy < imageHeight; iy++) \
            for (ptrdiff_t ix = 0; ix < imageWidth; ix++, row++)

AVX512 __attribute__((always_inline)) static inline void gradientSums(ROW_PARAMETERS, int rectifies, ptrdiff_t block, double *sums,
                                                                     const int VECTORS, const int POOLED) {
    Channels values, *k = &values;
    loadChannels(k, center, invStd, scale, shift, VECTORS);
    __m512 dySum[4], dyXhatSum[4];
    UNROLL for (int v = 0; v < VECTORS; v++) dySum[v] = dyXhatSum[v] = _mm512_setzero_ps();
    ptrdiff_t blockEnd = block < rows ? block : rows;
    FOR_EACH_ROW(POOLED) {
        const Source from = source(dy, positions, row, image, iy, ix, height, width, channels, POOLED);
        UNROLL for (int v = 0; v < VECTORS; v++) {
            __m512 g;
            const __m512 xhat = normalized(k, x + row * channels, from.gradient, from.taken, from.here, v, rectifies, POOLED, &g);
            dySum[v] = _mm512_add_ps(dySum[v], g);
            dyXhatSum[v] = _mm512_add_ps(dyXhatSum[v], _mm512_mul_ps(g, xhat));
        }
        // Each block's float sums go into the double ones.
        if (row + 1 == blockEnd) {
            UNROLL for (int v = 0; v < VECTORS; v++) {
                addToDoubles(sums + 16 * v, dySum[v]);
                addToDoubles(sums + channels + 16 * v, dyXhatSum[v]);
                dySum[v] = dyXhatSum[v] = _mm512_setzero_ps();
            }
            blockEnd = blockEnd + block < rows ? blockEnd + block : rows;
        }
    }
}

AVX512 __attribute__((always_inline)) static inline void inputGradient(ROW_PARAMETERS, int rectifies, const float *factor,
                                                                      const float *dyTotal, const float *dyXhatTotal, float count,
                                                                      float *dx, const int VECTORS, const int POOLED) {
    Channels values, *k = &values;
    loadChannels(k, center, invStd, scale, shift, VECTORS);
    __m512 f[4], total[4], xhatTotal[4];
    UNROLL for (int v = 0; v < VECTORS; v++) {
        f[v] = _mm512_loadu_ps(factor + 16 * v);
        total[v] = _mm512_loadu_ps(dyTotal + 16 * v);
        xhatTotal[v] = _mm512_loadu_ps(dyXhatTotal + 16 * v);
    }
    const __m512 m = _mm512_set1_ps(count);
    FOR_EACH_ROW(POOLED) {
        const Source from = source(dy, positions, row, image, iy, ix, height, width, channels, POOLED);
        UNROLL for (int v = 0; v < VECTORS; v++) {
            __m512 g;
            const __m512 xhat = normalized(k, x + row * channels, from.gradient, from.taken, from.here, v, rectifies, POOLED, &g);
            const __m512 inner = _mm512_sub_ps(_mm512_sub_ps(_mm512_mul_ps(m, g), total[v]), _mm512_mul_ps(xhat, xhatTotal[v]));
            _mm512_storeu_ps(dx + row * channels + 16 * v, _mm512_mul_ps(f[v], inner));
        }
    }
}

/// One function per number of vectors, ReLU or not and pooled or not, so that no test is in the loop.
#define SUMS(V, R, P) AVX512 static void gradient_sums_##V##_##R##_##P(ROW_PARAMETERS, ptrdiff_t block, double *sums) { \
    gradientSums(ROW_ARGUMENTS, R, block, sums, V, P); }
#define GRADIENT(V, R, P) AVX512 static void input_gradient_##V##_##R##_##P(ROW_PARAMETERS, const float *factor, const float *dyTotal, \
    const float *dyXhatTotal, float count, float *dx) { inputGradient(ROW_ARGUMENTS, R, factor, dyTotal, dyXhatTotal, count, dx, V, P); }
#define BOTH(V, R, P) SUMS(V, R, P) GRADIENT(V, R, P)
#define EVERY_CASE(V) BOTH(V, 0, 0) BOTH(V, 0, 1) BOTH(V, 1, 0) BOTH(V, 1, 1)
EVERY_CASE(1) EVERY_CASE(2) EVERY_CASE(3) EVERY_CASE(4)

typedef void (*Sums)(ROW_PARAMETERS, ptrdiff_t, double *);
typedef void (*Gradient)(ROW_PARAMETERS, const float *, const float *, const float *, float, float *);
#define CASES(KIND, V) { { KIND##_##V##_0_0, KIND##_##V##_0_1 }, { KIND##_##V##_1_0, KIND##_##V##_1_1 } }
static const Sums sumsByCase[4][2][2] = { CASES(gradient_sums, 1), CASES(gradient_sums, 2), CASES(gradient_sums, 3), CASES(gradient_sums, 4) };
static const Gradient gradientByCase[4][2][2] = {
    CASES(input_gradient, 1), CASES(input_gradient, 2), CASES(input_gradient, 3), CASES(input_gradient, 4) };

void landscape_batch_norm_gradient_sums(ROW_PARAMETERS, int rectifies, ptrdiff_t block, double *sums) {
    sumsByCase[channels / 16 - 1][rectifies != 0][positions != NULL](ROW_ARGUMENTS, block, sums);
}

void landscape_batch_norm_input_gradient(ROW_PARAMETERS, int rectifies, const float *factor, const float *dyTotal,
                                         const float *dyXhatTotal, float count, float *dx) {
    gradientByCase[channels / 16 - 1][rectifies != 0][positions != NULL](ROW_ARGUMENTS, factor, dyTotal, dyXhatTotal, count, dx);
}

/// Per block of `block` rows (the last maybe shorter), the sums of each value's deviation from the
/// block's first row and of its square, to `out` (`[blocks][2][channels]`).
AVX512 __attribute__((always_inline)) static inline void blockSums(const float *x, ptrdiff_t rows, ptrdiff_t channels, ptrdiff_t block,
                                                                  float *out, const int VECTORS) {
    for (ptrdiff_t start = 0; start < rows; start += block, out += 2 * channels) {
        const ptrdiff_t end = start + block < rows ? start + block : rows;
        __m512 first[4], deviations[4], squares[4];
        UNROLL for (int v = 0; v < VECTORS; v++) {
            first[v] = _mm512_loadu_ps(x + start * channels + 16 * v);
            deviations[v] = squares[v] = _mm512_setzero_ps();
        }
        for (ptrdiff_t row = start + 1; row < end; row++) {
            UNROLL for (int v = 0; v < VECTORS; v++) {
                const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + row * channels + 16 * v), first[v]);
                deviations[v] = _mm512_add_ps(deviations[v], d);
                squares[v] = _mm512_add_ps(squares[v], _mm512_mul_ps(d, d));
            }
        }
        UNROLL for (int v = 0; v < VECTORS; v++) {
            _mm512_storeu_ps(out + 16 * v, deviations[v]);
            _mm512_storeu_ps(out + channels + 16 * v, squares[v]);
        }
    }
}

/// `scale * ((x - center) * invStd) + shift` of vector `v` at `x`.
AVX512 __attribute__((always_inline)) static inline __m512 affine(const Channels *k, const float *x, int v) {
    const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + 16 * v), k->center[v]), k->invStd[v]);
    return _mm512_add_ps(_mm512_mul_ps(k->scale[v], xhat), k->shift[v]);
}

/// `max(value, floor)` with the value second, so that a NaN is kept.
AVX512 __attribute__((always_inline)) static inline __m512 floored(__m512 value, __m512 floor) { return _mm512_max_ps(floor, value); }

/// `y = max(scale * ((x - center) * invStd) + shift (+ residual), floor)`, NaN propagating.
AVX512 __attribute__((always_inline)) static inline void normalizeRows(const float *x, const float *residual, ptrdiff_t rows,
                                                                      ptrdiff_t channels, const float *center, const float *invStd,
                                                                      const float *scale, const float *shift, float floor, float *y,
                                                                      const int VECTORS) {
    Channels values, *k = &values;
    loadChannels(k, center, invStd, scale, shift, VECTORS);
    const __m512 low = _mm512_set1_ps(floor);
    for (ptrdiff_t row = 0; row < rows; row++) {
        UNROLL for (int v = 0; v < VECTORS; v++) {
            const ptrdiff_t at = row * channels + 16 * v;
            __m512 out = affine(k, x + row * channels, v);
            if (residual) out = _mm512_add_ps(out, _mm512_loadu_ps(residual + at));
            _mm512_storeu_ps(y + at, floored(out, low));
        }
    }
}

/// The normalised values of images of `height x width` rows (both even) pooled by 2x2 windows: each
/// window's maximum to `y` and its position (0 to 3 in scan order) to `positions`, the first maximum
/// winning and a NaN winning and staying, as `MaxPool2d` chooses.
AVX512 __attribute__((always_inline)) static inline void normalizePooled(const float *x, ptrdiff_t height, ptrdiff_t width, ptrdiff_t rows,
                                                                        ptrdiff_t channels, const float *center, const float *invStd,
                                                                        const float *scale, const float *shift, float floor, float *y,
                                                                        float *positions, const int VECTORS) {
    Channels values, *k = &values;
    loadChannels(k, center, invStd, scale, shift, VECTORS);
    const __m512 low = _mm512_set1_ps(floor);
    const ptrdiff_t step[4] = { 0, channels, width * channels, (width + 1) * channels };
    ptrdiff_t out = 0;
    for (ptrdiff_t image = 0; image < rows / (height * width); image++) {
        for (ptrdiff_t oy = 0; oy < height / 2; oy++) {
            for (ptrdiff_t ox = 0; ox < width / 2; ox++, out += channels) {
                const float *corner = x + ((image * height + 2 * oy) * width + 2 * ox) * channels;
                UNROLL for (int v = 0; v < VECTORS; v++) {
                    __m512 best = floored(affine(k, corner, v), low), position = _mm512_setzero_ps();
                    UNROLL for (int i = 1; i < 4; i++) {
                        const __m512 value = floored(affine(k, corner + step[i], v), low);
                        const __mmask16 replaces = _mm512_cmp_ps_mask(value, best, _CMP_GT_OQ) |
                            (_mm512_cmp_ps_mask(value, value, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
                        best = _mm512_mask_mov_ps(best, replaces, value);
                        position = _mm512_mask_mov_ps(position, replaces, _mm512_set1_ps((float)i));
                    }
                    _mm512_storeu_ps(y + out + 16 * v, best);
                    _mm512_storeu_ps(positions + out + 16 * v, position);
                }
            }
        }
    }
}

#define FORWARD(V) \
    AVX512 static void block_sums_##V(const float *x, ptrdiff_t rows, ptrdiff_t channels, ptrdiff_t block, float *out) { \
        blockSums(x, rows, channels, block, out, V); } \
    AVX512 static void normalize_##V(const float *x, const float *residual, ptrdiff_t rows, ptrdiff_t channels, const float *center, \
                                     const float *invStd, const float *scale, const float *shift, float floor, float *y) { \
        normalizeRows(x, residual, rows, channels, center, invStd, scale, shift, floor, y, V); } \
    AVX512 static void normalize_pooled_##V(const float *x, ptrdiff_t height, ptrdiff_t width, ptrdiff_t rows, ptrdiff_t channels, \
                                            const float *center, const float *invStd, const float *scale, const float *shift, float floor, \
                                            float *y, float *positions) { \
        normalizePooled(x, height, width, rows, channels, center, invStd, scale, shift, floor, y, positions, V); }
FORWARD(1) FORWARD(2) FORWARD(3) FORWARD(4)

typedef void (*BlockSums)(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *);
typedef void (*Normalize)(const float *, const float *, ptrdiff_t, ptrdiff_t, const float *, const float *, const float *, const float *,
                          float, float *);
static const BlockSums blockSumsByVectors[4] = { block_sums_1, block_sums_2, block_sums_3, block_sums_4 };
static const Normalize normalizeByVectors[4] = { normalize_1, normalize_2, normalize_3, normalize_4 };
typedef void (*NormalizePooled)(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *, const float *, const float *,
                                const float *, float, float *, float *);
static const NormalizePooled normalizePooledByVectors[4] = { normalize_pooled_1, normalize_pooled_2, normalize_pooled_3, normalize_pooled_4 };

void landscape_batch_norm_block_sums(const float *x, ptrdiff_t rows, ptrdiff_t channels, ptrdiff_t block, float *out) {
    blockSumsByVectors[channels / 16 - 1](x, rows, channels, block, out);
}

void landscape_batch_norm_normalize(const float *x, const float *residual, ptrdiff_t rows, ptrdiff_t channels, const float *center,
                                    const float *invStd, const float *scale, const float *shift, float floor, float *y) {
    normalizeByVectors[channels / 16 - 1](x, residual, rows, channels, center, invStd, scale, shift, floor, y);
}

void landscape_batch_norm_normalize_pooled(const float *x, ptrdiff_t height, ptrdiff_t width, ptrdiff_t rows, ptrdiff_t channels,
                                           const float *center, const float *invStd, const float *scale, const float *shift, float floor,
                                           float *y, float *positions) {
    normalizePooledByVectors[channels / 16 - 1](x, height, width, rows, channels, center, invStd, scale, shift, floor, y, positions);
}
