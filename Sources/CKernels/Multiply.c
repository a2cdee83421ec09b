// A matrix product read in place: no packing. The product is computed in tiles of up to 14 rows by
// 16 or 32 columns, their sums held in AVX-512 registers (at most 28 of the 32) over the whole
// depth. For each `k`, a tile loads its row of `b` once and broadcasts each of its rows' value of
// `a` into a fused multiply-add: the register blocking of a GEMM micro-kernel (Goto and van de
// Geijn, "Anatomy of high-performance matrix multiplication", ACM TOMS 34(3), 2008), fed from the
// operands as they lie, as the convolution's tiles are.
#include "Multiply.h"

#include "AVX512.h"

#define TILE_PARAMETERS const float *a, ptrdiff_t rowStride, ptrdiff_t depthStride, ptrdiff_t depth, const float *b, ptrdiff_t bRow, \
    float *c, ptrdiff_t cRow

/// One tile of `ROWS` rows by `VECTORS` vectors of 16 columns.
AVX512 __attribute__((always_inline)) static inline void tile(TILE_PARAMETERS, const int ROWS, const int VECTORS) {
    __m512 sum[14][2];
    UNROLL for (int r = 0; r < ROWS; r++)
        UNROLL for (int v = 0; v < VECTORS; v++) sum[r][v] = _mm512_setzero_ps();
    for (ptrdiff_t k = 0; k < depth; k++, a += depthStride, b += bRow) {
        __m512 w[2];
        UNROLL for (int v = 0; v < VECTORS; v++) w[v] = _mm512_loadu_ps(b + 16 * v);
        UNROLL for (int r = 0; r < ROWS; r++) {
            const __m512 x = _mm512_set1_ps(a[r * rowStride]);
            UNROLL for (int v = 0; v < VECTORS; v++) sum[r][v] = _mm512_fmadd_ps(x, w[v], sum[r][v]);
        }
    }
    UNROLL for (int r = 0; r < ROWS; r++)
        UNROLL for (int v = 0; v < VECTORS; v++) _mm512_storeu_ps(c + r * cRow + 16 * v, sum[r][v]);
}

typedef void (*Tile)(TILE_PARAMETERS);
#define TILE(R, V) AVX512 static void tile_##R##_##V(TILE_PARAMETERS) { tile(a, rowStride, depthStride, depth, b, bRow, c, cRow, R, V); }
#define TILES(V) TILE(1, V) TILE(2, V) TILE(3, V) TILE(4, V) TILE(5, V) TILE(6, V) TILE(7, V) TILE(8, V) TILE(9, V) TILE(10, V) \
    TILE(11, V) TILE(12, V) TILE(13, V) TILE(14, V)
TILES(1) TILES(2)
#define TABLE(V) { tile_1_##V, tile_2_##V, tile_3_##V, tile_4_##V, tile_5_##V, tile_6_##V, tile_7_##V, tile_8_##V, tile_9_##V, \
    tile_10_##V, tile_11_##V, tile_12_##V, tile_13_##V, tile_14_##V }
/// Tiles by vectors (1 or 2) and rows (1 to 14).
static const Tile tiles[2][14] = { TABLE(1), TABLE(2) };

void landscape_multiply(const float *a, ptrdiff_t rows, ptrdiff_t rowStride, ptrdiff_t depthStride, ptrdiff_t depth,
                        const float *b, ptrdiff_t bRow, ptrdiff_t columns, float *c, ptrdiff_t cRow) {
    // Rows in tiles of as equal a height as 14 allows: a last tile of a few rows would hold few
    // sums, and wait on each addition.
    const ptrdiff_t count = (rows + 13) / 14;
    // Columns outside, so that a block of `b` is read from cache by every tile of rows.
    for (ptrdiff_t j = 0; j < columns; j += 32) {
        const ptrdiff_t vectors = columns - j >= 32 ? 2 : 1;
        for (ptrdiff_t t = 0; t < count; t++) {
            const ptrdiff_t first = t * rows / count, height = (t + 1) * rows / count - first;
            tiles[vectors - 1][height - 1](a + first * rowStride, rowStride, depthStride, depth, b + j, bRow, c + first * cRow + j, cRow);
        }
    }
}

/// Transposes the 16 x 16 block `in` (rows `inRow` apart) into `out` (rows `outRow` apart): pairs
/// of rows interleaved by values, then by pairs of values, then by 128-bit lanes twice.
AVX512 static void transposeBlock(const float *in, ptrdiff_t inRow, float *out, ptrdiff_t outRow) {
    __m512 r[16], t[16];
    UNROLL for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(in + i * inRow);
    UNROLL for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    UNROLL for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    UNROLL for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    UNROLL for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
    UNROLL for (int i = 0; i < 16; i++) _mm512_storeu_ps(out + i * outRow, r[i]);
}

void landscape_transpose(const float *source, ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t sourceRow,
                         float *destination, ptrdiff_t destinationRow) {
    const ptrdiff_t wholeRows = rows - rows % 16, wholeColumns = columns - columns % 16;
    for (ptrdiff_t i = 0; i < wholeRows; i += 16)
        for (ptrdiff_t j = 0; j < wholeColumns; j += 16)
            transposeBlock(source + i * sourceRow + j, sourceRow, destination + j * destinationRow + i, destinationRow);
    // The edges, value by value.
    for (ptrdiff_t i = 0; i < rows; i++)
        for (ptrdiff_t j = i < wholeRows ? wholeColumns : 0; j < columns; j++)
            destination[j * destinationRow + i] = source[i * sourceRow + j];
}
