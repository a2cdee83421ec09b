/// Values on a rectangular grid: `values[j * x.count + i]` is the value at `(x[i], y[j])`, the
/// order of the surface files. A value that is not finite, or is -1 (the surface files' "not
/// computed"), is missing.
public struct Grid: Sendable {
    public let x: [Double]
    public let y: [Double]
    public let values: [Double]

    public init(x: [Double], y: [Double], values: [Double]) {
        precondition(x.count >= 2 && y.count >= 2 && values.count == x.count * y.count,
                     "Grid: \(values.count) values for \(x.count) x \(y.count)")
        precondition(zip(x, x.dropFirst()).allSatisfy { $0 < $1 } && zip(y, y.dropFirst()).allSatisfy { $0 < $1 },
                     "Grid: coordinates must increase")
        self.x = x
        self.y = y
        self.values = values
    }

    /// A grid of `f(x, y)`.
    public init(x: [Double], y: [Double], _ f: (Double, Double) -> Double) {
        self.init(x: x, y: y, values: y.flatMap { v in x.map { u in f(u, v) } })
    }

    public subscript(i: Int, j: Int) -> Double { values[j * x.count + i] }

    /// Whether `value` is a value and not a gap.
    public static func isPresent(_ value: Double) -> Bool { value.isFinite && value != -1 }

    /// The present values.
    public var presentValues: [Double] { values.filter(Self.isPresent) }

    /// The grid point of the smallest present value, or nil when none is present.
    public var minimum: (i: Int, j: Int, value: Double)? {
        var best: (Int, Int, Double)?
        for j in y.indices {
            for i in x.indices where Self.isPresent(self[i, j]) && self[i, j] < (best?.2 ?? .infinity) {
                best = (i, j, self[i, j])
            }
        }
        return best
    }

    /// The same grid with `transform` applied to the present values (gaps stay gaps).
    public func mapped(_ transform: (Double) -> Double) -> Grid {
        Grid(x: x, y: y, values: values.map { Self.isPresent($0) ? transform($0) : .nan })
    }
}
