// A direct convolution for channels-last images: no unrolled column matrix and no GEMM packing.
//
// The output is computed in tiles of `rows x columns` pixels by 16 or 32 output channels, their
// sums held in AVX-512 registers (at most 28 of the 32) for the whole kernel. For each kernel
// position and input channel, the tile's weights (one or two vectors of 16 outputs) are loaded once
// and each pixel's input value is broadcast and multiplied into them. Input pixels come straight
// from a zero-padded image, so every tile reads its neighbours without edge cases. This is the
// register blocking of a GEMM micro-kernel (Goto and van de Geijn, "Anatomy of high-performance
// matrix multiplication", ACM TOMS 34(3), 2008) with the unrolled matrix read in place.
#include "Convolution.h"

#include "AVX512.h"

/// The tile arguments: `input` the tile's top-left pixel at kernel position (0, 0); `pixel` and
/// `row` the distances between the tile's neighbouring input pixels across and down; `line` between
/// kernel rows; `kernel` and `kernelWidth` the kernel's rows and columns; `weight` the tile's first
/// output channel at kernel position (0, 0); `output` the tile's top-left output, `outputPixel`
/// apart across and `outputRow` down; `accumulate` whether the sums are added to it.
#define TILE_PARAMETERS const float *input, ptrdiff_t pixel, ptrdiff_t row, ptrdiff_t line, ptrdiff_t kernel, ptrdiff_t kernelWidth, \
    ptrdiff_t inputs, const float *weight, ptrdiff_t outputs, float *output, ptrdiff_t outputPixel, ptrdiff_t outputRow, int accumulate
#define TILE_ARGUMENTS input, pixel, row, line, kernel, kernelWidth, inputs, weight, outputs, output, outputPixel, outputRow, accumulate

/// One tile of `ROWS x COLUMNS` pixels by `VECTORS` vectors of 16 outputs. The fixed bounds let the
/// compiler unroll the pixel and vector loops and keep every sum in a register.
/// `PIXEL`, when not 0, is `pixel` as a constant, so that the pixels' addresses are one register
/// plus fixed offsets.
AVX512 __attribute__((always_inline)) static inline void tile(TILE_PARAMETERS, const int ROWS, const int COLUMNS, const int VECTORS,
                                                             const int PIXEL) {
    __m512 sum[2][14][2];
    UNROLL for (int i = 0; i < ROWS; i++)
        UNROLL for (int j = 0; j < COLUMNS; j++)
            UNROLL for (int v = 0; v < VECTORS; v++) sum[i][j][v] = _mm512_setzero_ps();
    for (ptrdiff_t ky = 0; ky < kernel; ky++) {
        for (ptrdiff_t kx = 0; kx < kernelWidth; kx++) {
            const float *source = input + ky * line + kx * inputs;
            const float *taps = weight + (ky * kernelWidth + kx) * inputs * outputs;
            // Pointers stepped through the channels, so that the addresses have no index register.
            const float *const end = source + inputs;
            for (; source < end; source++, taps += outputs) {
                __m512 w[2];
                UNROLL for (int v = 0; v < VECTORS; v++) w[v] = _mm512_loadu_ps(taps + 16 * v);
                UNROLL for (int i = 0; i < ROWS; i++) {
                    UNROLL for (int j = 0; j < COLUMNS; j++) {
                        __m512 x = _mm512_set1_ps(source[i * row + j * (PIXEL ? PIXEL : pixel)]);
                        UNROLL for (int v = 0; v < VECTORS; v++) sum[i][j][v] = _mm512_fmadd_ps(x, w[v], sum[i][j][v]);
                    }
                }
            }
        }
    }
    UNROLL for (int i = 0; i < ROWS; i++) {
        UNROLL for (int j = 0; j < COLUMNS; j++) {
            UNROLL for (int v = 0; v < VECTORS; v++) {
                float *to = output + i * outputRow + j * outputPixel + 16 * v;
                _mm512_storeu_ps(to, accumulate ? _mm512_add_ps(_mm512_loadu_ps(to), sum[i][j][v]) : sum[i][j][v]);
            }
        }
    }
}

typedef void (*Tile)(TILE_PARAMETERS);

#define TILE(R, C, V) AVX512 static void tile_##R##_##C##_##V(TILE_PARAMETERS) { tile(TILE_ARGUMENTS, R, C, V, 0); }
#define ONE_ROW(V) TILE(1, 1, V) TILE(1, 2, V) TILE(1, 3, V) TILE(1, 4, V) TILE(1, 5, V) TILE(1, 6, V) TILE(1, 7, V) \
    TILE(1, 8, V) TILE(1, 9, V) TILE(1, 10, V) TILE(1, 11, V) TILE(1, 12, V) TILE(1, 13, V) TILE(1, 14, V)
#define TWO_ROWS(V) TILE(2, 1, V) TILE(2, 2, V) TILE(2, 3, V) TILE(2, 4, V) TILE(2, 5, V) TILE(2, 6, V) TILE(2, 7, V)
ONE_ROW(1) ONE_ROW(2) TWO_ROWS(1) TWO_ROWS(2)

#define ONE_ROW_TABLE(V) { tile_1_1_##V, tile_1_2_##V, tile_1_3_##V, tile_1_4_##V, tile_1_5_##V, tile_1_6_##V, tile_1_7_##V, \
    tile_1_8_##V, tile_1_9_##V, tile_1_10_##V, tile_1_11_##V, tile_1_12_##V, tile_1_13_##V, tile_1_14_##V }
#define TWO_ROWS_TABLE(V) { tile_2_1_##V, tile_2_2_##V, tile_2_3_##V, tile_2_4_##V, tile_2_5_##V, tile_2_6_##V, tile_2_7_##V }
/// Tiles by vectors (1 or 2) and columns (1 to 14, or to 7 for two rows).
static const Tile oneRow[2][14] = { ONE_ROW_TABLE(1), ONE_ROW_TABLE(2) };
static const Tile twoRows[2][7] = { TWO_ROWS_TABLE(1), TWO_ROWS_TABLE(2) };

/// Whole tiles (14 pixels) whose input pixels are 1, 16, 32 or 64 values apart (stride-1
/// convolutions of that many channels, a stem's one among them), with that distance a constant, by
/// vectors and distance.
#define FIXED(R, C, V, P) AVX512 static void fixed_##R##_##C##_##V##_##P(TILE_PARAMETERS) { tile(TILE_ARGUMENTS, R, C, V, P); }
#define FIXED_CHANNELS(R, C, V) FIXED(R, C, V, 1) FIXED(R, C, V, 16) FIXED(R, C, V, 32) FIXED(R, C, V, 64)
FIXED_CHANNELS(1, 14, 1) FIXED_CHANNELS(1, 14, 2) FIXED_CHANNELS(2, 7, 1) FIXED_CHANNELS(2, 7, 2)
#define FIXED_TABLE(R, C, V) { fixed_##R##_##C##_##V##_1, fixed_##R##_##C##_##V##_16, fixed_##R##_##C##_##V##_32, \
    fixed_##R##_##C##_##V##_64 }
static const Tile fixedOneRow[2][4] = { FIXED_TABLE(1, 14, 1), FIXED_TABLE(1, 14, 2) };
static const Tile fixedTwoRows[2][4] = { FIXED_TABLE(2, 7, 1), FIXED_TABLE(2, 7, 2) };

/// The tile for `rows` (1 or 2) by `columns` pixels `pixel` values apart, of `vectors` vectors.
static Tile chooseTile(ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t vectors, ptrdiff_t pixel) {
    const int fixed = pixel == 1 ? 0 : pixel == 16 ? 1 : pixel == 32 ? 2 : pixel == 64 ? 3 : -1;
    if (rows == 2) return columns == 7 && fixed >= 0 ? fixedTwoRows[vectors - 1][fixed] : twoRows[vectors - 1][columns - 1];
    return columns == 14 && fixed >= 0 ? fixedOneRow[vectors - 1][fixed] : oneRow[vectors - 1][columns - 1];
}

void landscape_convolve(const float *padded, ptrdiff_t paddedWidth, ptrdiff_t inputs, ptrdiff_t kernelHeight, ptrdiff_t kernelWidth,
                        ptrdiff_t stride, const float *weight, ptrdiff_t outputs, ptrdiff_t first, ptrdiff_t last, ptrdiff_t outputWidth,
                        float *output, ptrdiff_t outputPixel, ptrdiff_t outputRow, int accumulate) {
    const ptrdiff_t vectors = outputs % 32 == 0 ? 2 : 1;
    // Images up to 7 wide take two output rows per tile, so that a tile has up to 14 pixels.
    const ptrdiff_t rowsPerTile = outputWidth <= 7 ? 2 : 1;
    const ptrdiff_t line = paddedWidth * inputs, pixel = stride * inputs, row = stride * line;
    for (ptrdiff_t block = 0; block < outputs; block += 16 * vectors) {
        for (ptrdiff_t oy = first; oy < last; oy += rowsPerTile) {
            const int two = rowsPerTile == 2 && oy + 1 < last;
            for (ptrdiff_t ox = 0; ox < outputWidth; ox += 14) {
                const ptrdiff_t columns = outputWidth - ox < 14 ? outputWidth - ox : 14;
                const Tile run = chooseTile(two ? 2 : 1, columns, vectors, pixel);
                run(padded + oy * row + ox * pixel, pixel, row, line, kernelHeight, kernelWidth, inputs, weight + block, outputs,
                    output + (oy - first) * outputRow + ox * outputPixel + block, outputPixel, outputRow, accumulate);
            }
        }
    }
}

/// The weight gradient's terms of one image for `CHANNELS` input channels by `VECTORS` vectors of
/// 16 outputs at one kernel position, added to `to` (`[CHANNELS][outputs]`), over `rows x columns`
/// output pixels: `input` is the first channel of the first pixel's input, `pixel` and `row` the
/// distances between neighbouring pixels' inputs; `gradient` the output gradient at the first pixel,
/// `gradientRow` between rows.
AVX512 __attribute__((always_inline)) static inline void gradientTile(const float *input, ptrdiff_t pixel, ptrdiff_t row,
                                                                     const float *gradient, ptrdiff_t gradientRow, ptrdiff_t outputs,
                                                                     ptrdiff_t rows, ptrdiff_t columns, float *to,
                                                                     const int CHANNELS, const int VECTORS) {
    __m512 sum[16][4];
    UNROLL for (int c = 0; c < CHANNELS; c++)
        UNROLL for (int v = 0; v < VECTORS; v++) sum[c][v] = _mm512_setzero_ps();
    for (ptrdiff_t oy = 0; oy < rows; oy++) {
        const float *x = input + oy * row, *g = gradient + oy * gradientRow;
        for (ptrdiff_t ox = 0; ox < columns; ox++, x += pixel, g += outputs) {
            __m512 dy[4];
            UNROLL for (int v = 0; v < VECTORS; v++) dy[v] = _mm512_loadu_ps(g + 16 * v);
            UNROLL for (int c = 0; c < CHANNELS; c++) {
                __m512 value = _mm512_set1_ps(x[c]);
                UNROLL for (int v = 0; v < VECTORS; v++) sum[c][v] = _mm512_fmadd_ps(value, dy[v], sum[c][v]);
            }
        }
    }
    UNROLL for (int c = 0; c < CHANNELS; c++) {
        UNROLL for (int v = 0; v < VECTORS; v++) {
            float *at = to + c * outputs + 16 * v;
            _mm512_storeu_ps(at, _mm512_add_ps(_mm512_loadu_ps(at), sum[c][v]));
        }
    }
}

#define GRADIENT_PARAMETERS const float *input, ptrdiff_t pixel, ptrdiff_t row, const float *gradient, ptrdiff_t gradientRow, \
    ptrdiff_t outputs, ptrdiff_t rows, ptrdiff_t columns, float *to
typedef void (*GradientTile)(GRADIENT_PARAMETERS);
#define GRADIENT_TILE(C, V) AVX512 static void gradient_##C##_##V(GRADIENT_PARAMETERS) { \
    gradientTile(input, pixel, row, gradient, gradientRow, outputs, rows, columns, to, C, V); }
GRADIENT_TILE(16, 1) GRADIENT_TILE(8, 2) GRADIENT_TILE(4, 4) GRADIENT_TILE(1, 1) GRADIENT_TILE(1, 2) GRADIENT_TILE(1, 4)
/// By vectors (1, 2 or 4): tiles of 16 sums, and of one channel for channels left over.
static const GradientTile gradientTiles[4] = { gradient_16_1, gradient_8_2, NULL, gradient_4_4 };
static const GradientTile channelTiles[4] = { gradient_1_1, gradient_1_2, NULL, gradient_1_4 };

/// The output positions `first ..< end` (along one axis) whose input position `o * stride - padding
/// + k` lies in `0 ..< size`.
static void insideRange(ptrdiff_t k, ptrdiff_t padding, ptrdiff_t stride, ptrdiff_t size, ptrdiff_t outputs,
                        ptrdiff_t *first, ptrdiff_t *end) {
    const ptrdiff_t low = padding - k;  // o * stride >= low
    *first = low <= 0 ? 0 : (low + stride - 1) / stride;
    const ptrdiff_t high = size - 1 + padding - k;  // o * stride <= high
    *end = high < 0 ? 0 : high / stride + 1;
    if (*end > outputs) *end = outputs;
    if (*first > *end) *first = *end;
}

void landscape_convolution_weight_gradient(const float *image, ptrdiff_t height, ptrdiff_t width, ptrdiff_t inputs,
                                           ptrdiff_t kernel, ptrdiff_t stride, ptrdiff_t padding, const float *gradient,
                                           ptrdiff_t outputs, ptrdiff_t outputHeight, ptrdiff_t outputWidth, float *weightGradient) {
    const ptrdiff_t vectors = outputs % 64 == 0 ? 4 : outputs % 32 == 0 ? 2 : 1, channels = 16 / vectors;
    const ptrdiff_t pixel = stride * inputs, row = stride * width * inputs, gradientRow = outputWidth * outputs;
    for (ptrdiff_t ky = 0; ky < kernel; ky++) {
        ptrdiff_t top, bottom;
        insideRange(ky, padding, stride, height, outputHeight, &top, &bottom);
        for (ptrdiff_t kx = 0; kx < kernel; kx++) {
            ptrdiff_t left, right;
            insideRange(kx, padding, stride, width, outputWidth, &left, &right);
            if (top == bottom || left == right) continue;
            // The input of output pixel (top, left) at this kernel position.
            const float *tap = image + ((top * stride - padding + ky) * width + left * stride - padding + kx) * inputs;
            const float *dy = gradient + top * gradientRow + left * outputs;
            float *to = weightGradient + (ky * kernel + kx) * inputs * outputs;
            for (ptrdiff_t c = 0; c < inputs;) {
                const int whole = inputs - c >= channels;
                const GradientTile run = whole ? gradientTiles[vectors - 1] : channelTiles[vectors - 1];
                for (ptrdiff_t block = 0; block < outputs; block += 16 * vectors)
                    run(tap + c, pixel, row, dy + block, gradientRow, outputs, bottom - top, right - left, to + c * outputs + block);
                c += whole ? channels : 1;
            }
        }
    }
}

/// The weight gradient's terms of one padded image for all `KERNEL x KERNEL x INPUTS` taps at once
/// by 16 outputs (`block` of them), one sum per tap in a register, over every output pixel: for a
/// stem's few input channels, where tiles over the channels of one tap would hold a single sum and
/// wait on each addition.
AVX512 __attribute__((always_inline)) static inline void tapsTile(const float *padded, ptrdiff_t paddedWidth, ptrdiff_t stride,
                                                                 const float *gradient, ptrdiff_t outputs, ptrdiff_t outputHeight,
                                                                 ptrdiff_t outputWidth, float *to, const int KERNEL, const int INPUTS) {
    __m512 sum[27];
    UNROLL for (int t = 0; t < KERNEL * KERNEL * INPUTS; t++) sum[t] = _mm512_setzero_ps();
    const ptrdiff_t line = paddedWidth * INPUTS, pixel = stride * INPUTS;
    for (ptrdiff_t oy = 0; oy < outputHeight; oy++) {
        const float *x = padded + oy * stride * line, *g = gradient + oy * outputWidth * outputs;
        for (ptrdiff_t ox = 0; ox < outputWidth; ox++, x += pixel, g += outputs) {
            const __m512 dy = _mm512_loadu_ps(g);
            UNROLL for (int ky = 0; ky < KERNEL; ky++)
                UNROLL for (int t = 0; t < KERNEL * INPUTS; t++)
                    sum[ky * KERNEL * INPUTS + t] = _mm512_fmadd_ps(_mm512_set1_ps(x[ky * line + t]), dy, sum[ky * KERNEL * INPUTS + t]);
        }
    }
    UNROLL for (int t = 0; t < KERNEL * KERNEL * INPUTS; t++) {
        float *at = to + t * outputs;
        _mm512_storeu_ps(at, _mm512_add_ps(_mm512_loadu_ps(at), sum[t]));
    }
}

#define TAPS_PARAMETERS const float *padded, ptrdiff_t paddedWidth, ptrdiff_t stride, const float *gradient, ptrdiff_t outputs, \
    ptrdiff_t outputHeight, ptrdiff_t outputWidth, float *to
typedef void (*TapsTile)(TAPS_PARAMETERS);
#define TAPS_TILE(K, C) AVX512 static void taps_##K##_##C(TAPS_PARAMETERS) { \
    tapsTile(padded, paddedWidth, stride, gradient, outputs, outputHeight, outputWidth, to, K, C); }
TAPS_TILE(3, 1) TAPS_TILE(3, 2) TAPS_TILE(3, 3) TAPS_TILE(5, 1)

/// The taps tile for a kernel and a number of input channels, or NULL.
static TapsTile chooseTapsTile(ptrdiff_t inputs, ptrdiff_t kernel) {
    if (kernel == 3 && inputs >= 1 && inputs <= 3) return (const TapsTile[]){ taps_3_1, taps_3_2, taps_3_3 }[inputs - 1];
    return kernel == 5 && inputs == 1 ? taps_5_1 : NULL;
}

int landscape_convolution_weighs_by_taps(ptrdiff_t inputs, ptrdiff_t kernel) { return chooseTapsTile(inputs, kernel) != NULL; }

void landscape_convolution_weight_gradient_by_taps(const float *padded, ptrdiff_t paddedWidth, ptrdiff_t inputs, ptrdiff_t kernel,
                                                   ptrdiff_t stride, const float *gradient, ptrdiff_t outputs,
                                                   ptrdiff_t outputHeight, ptrdiff_t outputWidth, float *weightGradient) {
    const TapsTile run = chooseTapsTile(inputs, kernel);
    for (ptrdiff_t block = 0; block < outputs; block += 16)
        run(padded, paddedWidth, stride, gradient + block, outputs, outputHeight, outputWidth, weightGradient + block);
}
