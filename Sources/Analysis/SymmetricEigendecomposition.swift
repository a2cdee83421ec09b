/// The eigenvalues and orthonormal eigenvectors of a small real symmetric matrix, `A = V diag(l) V^T`.
///
/// Two solvers, both written out here:
/// - dense matrices: the cyclic Jacobi method (Jacobi 1846; Golub and Van Loan, Matrix Computations,
///   4th ed., sec. 8.5), rotations `J^T A J` that zero each off-diagonal element in turn until the
///   off-diagonal part vanishes; it is accurate to a few ulps of `||A||` and fine up to a few hundred
///   rows (a full network Hessian in tests);
/// - symmetric tridiagonal matrices (the Lanczos matrices `T_m`): the implicit QL method with
///   Wilkinson-type shifts (`tql2` of EISPACK, Bowdler, Martin, Reinsch and Wilkinson 1968, as in
///   JAMA), `O(m^2)` for the eigenvalues plus `O(m)` per eigenvector row kept.
///
/// Eigenvalues are in descending (algebraic) order; `eigenvectors[k]` belongs to `eigenvalues[k]`.
public struct SymmetricEigendecomposition: Sendable, Equatable {
    /// The eigenvalues, largest (most positive) first.
    public let eigenvalues: [Double]
    /// Unit eigenvectors: `eigenvectors[k]` belongs to `eigenvalues[k]`.
    public let eigenvectors: [[Double]]

    /// The decomposition of the symmetric matrix `matrix` (rows; only the upper triangle is read)
    /// by cyclic Jacobi rotations with the threshold strategy of Rutishauser (1971): sweeps of all
    /// pairs `(p, q)`, each rotated with `t = sgn(theta) / (|theta| + sqrt(theta^2 + 1))`,
    /// `theta = (a_qq - a_pp) / 2 a_pq`, until every off-diagonal element is negligible.
    public init(symmetric matrix: [[Double]]) {
        let n = matrix.count
        precondition(matrix.allSatisfy { $0.count == n }, "SymmetricEigendecomposition: the matrix is not square")
        precondition(matrix.allSatisfy { $0.allSatisfy(\.isFinite) }, "SymmetricEigendecomposition: the matrix is not finite")
        var a = matrix.flatMap { $0 }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var d = (0..<n).map { a[$0 * n + $0] }
        var b = d
        var z = [Double](repeating: 0, count: n)

        func rotate(_ m: inout [Double], _ i: Int, _ j: Int, _ k: Int, _ l: Int, _ s: Double, _ tau: Double) {
            let g = m[i * n + j], h = m[k * n + l]
            m[i * n + j] = g - s * (h + g * tau)
            m[k * n + l] = h + s * (g - h * tau)
        }

        for sweep in 1...100 {
            var offDiagonal = 0.0
            for p in 0..<n { for q in (p + 1)..<max(n, p + 1) { offDiagonal += abs(a[p * n + q]) } }
            if offDiagonal == 0 { break }
            let threshold = sweep < 4 ? 0.2 * offDiagonal / Double(n * n) : 0
            for p in 0..<max(n - 1, 0) {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    let g = 100 * abs(apq)
                    if sweep > 4 && abs(d[p]) + g == abs(d[p]) && abs(d[q]) + g == abs(d[q]) {
                        a[p * n + q] = 0
                    } else if abs(apq) > threshold {
                        var h = d[q] - d[p]
                        let t: Double
                        if abs(h) + g == abs(h) {
                            t = apq / h
                        } else {
                            let theta = 0.5 * h / apq
                            let magnitude = 1 / (abs(theta) + (1 + theta * theta).squareRoot())
                            t = theta < 0 ? -magnitude : magnitude
                        }
                        let c = 1 / (1 + t * t).squareRoot()
                        let s = t * c
                        let tau = s / (1 + c)
                        h = t * apq
                        z[p] -= h
                        z[q] += h
                        d[p] -= h
                        d[q] += h
                        a[p * n + q] = 0
                        for j in 0..<p { rotate(&a, j, p, j, q, s, tau) }
                        for j in (p + 1)..<q { rotate(&a, p, j, j, q, s, tau) }
                        for j in (q + 1)..<n { rotate(&a, p, j, q, j, s, tau) }
                        for j in 0..<n { rotate(&v, j, p, j, q, s, tau) }
                    }
                }
            }
            for i in 0..<n {
                b[i] += z[i]
                d[i] = b[i]
                z[i] = 0
            }
        }
        let order = d.indices.sorted { d[$0] > d[$1] }
        eigenvalues = order.map { d[$0] }
        eigenvectors = order.map { k in (0..<n).map { v[$0 * n + k] } }
    }

    /// The decomposition of the symmetric tridiagonal matrix with `diagonal` (`m` entries) and
    /// `offDiagonal` (`m - 1` entries, `T[i][i+1] = T[i+1][i] = offDiagonal[i]`) by the implicit QL
    /// method.
    public init(tridiagonal diagonal: [Double], offDiagonal: [Double]) {
        let m = diagonal.count
        let (values, rows) = SymmetricEigendecomposition.tridiagonal(diagonal: diagonal, offDiagonal: offDiagonal, rows: Array(0..<m))
        eigenvalues = values
        eigenvectors = (0..<m).map { k in (0..<m).map { rows[$0][k] } }
    }

    /// The eigenvalues of a symmetric tridiagonal matrix (descending) and the requested rows of its
    /// eigenvector matrix: `rows[r][k]` is component `rowIndices[r]` of the eigenvector of
    /// `values[k]`. Lanczos needs only the last row (residual estimates) and the first row
    /// (quadrature weights), which costs `O(m)` per rotation instead of `O(m^2)`.
    static func tridiagonal(diagonal: [Double], offDiagonal: [Double], rows rowIndices: [Int]) -> (values: [Double], rows: [[Double]]) {
        let n = diagonal.count
        precondition(offDiagonal.count == max(n - 1, 0), "tridiagonal: \(offDiagonal.count) off-diagonal entries for \(n) rows")
        precondition(diagonal.allSatisfy(\.isFinite) && offDiagonal.allSatisfy(\.isFinite), "tridiagonal: the matrix is not finite")
        guard n > 0 else { return ([], rowIndices.map { _ in [] }) }
        var d = diagonal
        var e = offDiagonal + [0]
        // z[r][k]: row rowIndices[r] of the accumulated rotations, starting from the identity.
        var z = rowIndices.map { r in (0..<n).map { $0 == r ? 1.0 : 0.0 } }
        var f = 0.0
        var tst1 = 0.0
        let eps = Double.ulpOfOne
        for l in 0..<n {
            tst1 = max(tst1, abs(d[l]) + abs(e[l]))
            var m = l
            while m < n - 1 && abs(e[m]) > eps * tst1 { m += 1 }
            if m > l {
                var iterations = 0
                repeat {
                    iterations += 1
                    // Implicit shift from the leading 2x2 block.
                    var g = d[l]
                    var p = (d[l + 1] - g) / (2 * e[l])
                    var r = hypot(p, 1)
                    if p < 0 { r = -r }
                    d[l] = e[l] / (p + r)
                    d[l + 1] = e[l] * (p + r)
                    let dl1 = d[l + 1]
                    var h = g - d[l]
                    for i in (l + 2)..<max(n, l + 2) { d[i] -= h }
                    f += h
                    // Implicit QL transformation.
                    p = d[m]
                    var c = 1.0, c2 = 1.0, c3 = 1.0
                    let el1 = e[l + 1]
                    var s = 0.0, s2 = 0.0
                    var i = m - 1
                    while i >= l {
                        c3 = c2
                        c2 = c
                        s2 = s
                        g = c * e[i]
                        h = c * p
                        r = hypot(p, e[i])
                        e[i + 1] = s * r
                        s = e[i] / r
                        c = p / r
                        p = c * d[i] - s * g
                        d[i + 1] = h + s * (c * g + s * d[i])
                        for k in z.indices {
                            let t = z[k][i + 1]
                            z[k][i + 1] = s * z[k][i] + c * t
                            z[k][i] = c * z[k][i] - s * t
                        }
                        i -= 1
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1
                    e[l] = s * p
                    d[l] = c * p
                } while abs(e[l]) > eps * tst1 && iterations < 100
            }
            d[l] += f
            e[l] = 0
        }
        let order = d.indices.sorted { d[$0] > d[$1] }
        return (order.map { d[$0] }, z.map { row in order.map { row[$0] } })
    }
}

private func hypot(_ a: Double, _ b: Double) -> Double {
    let (x, y) = (abs(a), abs(b))
    let big = max(x, y), small = min(x, y)
    guard big > 0 else { return 0 }
    let ratio = small / big
    return big * (1 + ratio * ratio).squareRoot()
}
