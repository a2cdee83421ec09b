import LandscapeCore
import Testing

/// The Float product and transpose kernels (`Scalar.multiply`, `Scalar.transpose`) that dense layers
/// use, against plain loops in Double, where the processor has AVX-512F (`KernelAvailabilityTests`).
struct MultiplyKernelTests {
    /// Rows 1 to 30 (every tile height, one and three tiles), columns of one and two vectors and
    /// mixed, depths from 1; `a` row-major and transposed.
    @Test("products with a row-major or transposed, against Double to 1e-5 of the terms' size",
          .enabled(if: Float.multipliesDirectly(columns: 16)),
          arguments: [(1, 16, 1), (3, 32, 5), (13, 48, 40), (14, 80, 7), (15, 16, 33), (29, 112, 64), (30, 32, 1)])
    func product(rows: Int, columns: Int, depth: Int) {
        var generator = RandomGenerator(seed: UInt64(rows * 1000 + columns + depth))
        for transposed in [false, true] {
            // Strides wider than the matrices, so that reading past a row would show.
            let (rowStride, depthStride) = transposed ? (1, rows + 3) : (depth + 2, 1)
            let bRow = columns + 16, cRow = columns + 32
            let a = (0..<(rows + 3) * (depth + 2)).map { _ in Float(generator.normal()) }
            let b = (0..<depth * bRow).map { _ in Float(generator.normal()) }
            var c = [Float](repeating: .nan, count: rows * cRow)
            c.withUnsafeMutableBufferPointer { c in
                Float.multiply(a, rows: rows, rowStride: rowStride, depthStride: depthStride, depth: depth,
                               b, bRow: bRow, columns: columns, into: c.baseAddress!, cRow: cRow)
            }
            for r in 0..<rows {
                for j in 0..<columns {
                    var sum = 0.0, size = 0.0
                    for k in 0..<depth {
                        let term = Double(a[r * rowStride + k * depthStride]) * Double(b[k * bRow + j])
                        sum += term
                        size += abs(term)
                    }
                    #expect(abs(Double(c[r * cRow + j]) - sum) <= 1e-5 * size, "(\(r), \(j)), transposed \(transposed)")
                }
                // The columns between rows are left alone.
                #expect(c[r * cRow + columns ..< (r + 1) * cRow].allSatisfy { $0.isNaN })
            }
        }
    }

    @Test("transposes move every value, whole 16 x 16 blocks and the edges",
          .enabled(if: Float.multipliesDirectly(columns: 16)),
          arguments: [(16, 16), (1, 40), (37, 50), (32, 784), (17, 3)])
    func transpose(rows: Int, columns: Int) {
        let sourceRow = columns + 5, destinationRow = rows + 7
        let source = (0..<rows * sourceRow).map { Float($0) }
        var destination = [Float](repeating: -1, count: columns * destinationRow)
        destination.withUnsafeMutableBufferPointer { out in
            Float.transpose(source, rows: rows, columns: columns, sourceRow: sourceRow, into: out.baseAddress!, destinationRow: destinationRow)
        }
        for i in 0..<rows {
            for j in 0..<columns where destination[j * destinationRow + i] != source[i * sourceRow + j] {
                Issue.record("(\(i), \(j)): \(destination[j * destinationRow + i]), expected \(source[i * sourceRow + j])")
                return
            }
        }
        #expect((0..<columns).allSatisfy { j in destination[j * destinationRow + rows ..< (j + 1) * destinationRow].allSatisfy { $0 == -1 } })
    }
}
