import LandscapeCore

/// Kernels over a row-major `rows x columns` matrix that several layers share: channels-last
/// activations are such a matrix with one row per pixel and one column per channel.
enum RowKernels {
    /// `matrix[r, :] += vector` for every row (adding a bias), then `max(_, floor)`: with the
    /// default floor, -infinity, every value stays as it is (NaN too); with 0 it is a fused ReLU.
    static func addToEveryRow<T: Scalar>(_ vector: UnsafePointer<T>, _ matrix: UnsafeMutablePointer<T>, rows: Int, columns: Int,
                                         floor: T = -.infinity) {
        for row in 0..<rows {
            let out = matrix + row * columns
            for c in 0..<columns { out[c] = max(out[c] + vector[c], floor) }
        }
    }

    /// `matrix[r, :] += values[r]` for every row, then `max(_, floor)`: a bias added to a
    /// feature-major matrix (one row per feature), with a fused ReLU when the floor is 0.
    static func addToEachRow<T: Scalar>(_ values: UnsafePointer<T>, _ matrix: UnsafeMutablePointer<T>, rows: Int, columns: Int, floor: T) {
        for row in 0..<rows {
            let (out, value) = (matrix + row * columns, values[row])
            for c in 0..<columns { out[c] = max(out[c] + value, floor) }
        }
    }

    /// `matrix[r, :] = max((matrix[r, :] + vector) + residual[r, :], floor)`: a residual block's
    /// sum of its paths, the main path's batch-norm shift added first.
    static func addToEveryRow<T: Scalar>(_ vector: UnsafePointer<T>, _ matrix: UnsafeMutablePointer<T>, plus residual: UnsafePointer<T>,
                                         rows: Int, columns: Int, floor: T) {
        for row in 0..<rows {
            let (out, other) = (matrix + row * columns, residual + row * columns)
            for c in 0..<columns { out[c] = max(out[c] + vector[c] + other[c], floor) }
        }
    }

    /// ReLU's backward: `dx[i] = dy[i]` where the output `y[i] > 0`, else 0 (zero at the kink, as
    /// PyTorch), for `count` values.
    static func rectifiedGradient<T: Scalar>(_ dy: UnsafePointer<T>, output y: UnsafePointer<T>, into dx: UnsafeMutablePointer<T>, count: Int) {
        // Both values loaded unconditionally, so the select vectorizes.
        for i in 0..<count {
            let gradient = dy[i]
            dx[i] = y[i] > 0 ? gradient : 0
        }
    }

    /// `sums[c] = sum over r of matrix[r, c]` (a bias gradient), the rows `rowStride` apart.
    static func sumRows<T: Scalar>(_ matrix: UnsafePointer<T>, rows: Int, columns: Int, rowStride: Int, into sums: UnsafeMutablePointer<T>) {
        sums.update(repeating: 0, count: columns)
        for row in 0..<rows {
            let values = matrix + row * rowStride
            for c in 0..<columns { sums[c] += values[c] }
        }
    }
}
