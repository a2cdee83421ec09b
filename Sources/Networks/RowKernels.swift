import LandscapeCore

/// Kernels over a row-major `rows x columns` matrix that several layers share: channels-last
/// activations are such a matrix with one row per pixel and one column per channel.
enum RowKernels {
    /// `matrix[r, :] += vector` for every row (adding a bias).
    static func addToEveryRow<T: Scalar>(_ vector: UnsafePointer<T>, _ matrix: UnsafeMutablePointer<T>, rows: Int, columns: Int) {
        for row in 0..<rows {
            let out = matrix + row * columns
            for c in 0..<columns { out[c] += vector[c] }
        }
    }

    /// `sums[c] = sum over r of matrix[r, c]` (a bias gradient).
    static func sumRows<T: Scalar>(_ matrix: UnsafePointer<T>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<T>) {
        sums.update(repeating: 0, count: columns)
        for row in 0..<rows {
            let values = matrix + row * columns
            for c in 0..<columns { sums[c] += values[c] }
        }
    }
}
