/// A flat vector of named tensors: the parameters, their gradients, or batch-norm statistics of a
/// network, with one `ParameterLayout` describing all of them.
public final class ParameterVector<T: Scalar> {
    public let layout: ParameterLayout
    public let buffer: Buffer<T>

    /// A zero-filled vector with this layout.
    public init(layout: ParameterLayout) {
        self.layout = layout
        buffer = Buffer(count: layout.count)
    }

    /// The first element; it never moves, so layers keep pointers into it.
    public var pointer: UnsafeMutablePointer<T> { buffer.pointer }
    /// Elements in the vector.
    public var count: Int { layout.count }
    /// All elements.
    public var elements: UnsafeMutableBufferPointer<T> { buffer.elements(layout.count) }

    /// The elements of one tensor.
    public func view(_ entry: ParameterEntry) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: pointer + entry.offset, count: entry.count)
    }

    /// The elements of the tensor named `name`; the name must be in the layout.
    public subscript(name: String) -> UnsafeMutableBufferPointer<T> {
        guard let entry = layout.entry(named: name) else {
            preconditionFailure("ParameterVector: no tensor named \(name)")
        }
        return view(entry)
    }

    /// Copies every element of `other`, which must have the same layout.
    public func copy(from other: ParameterVector<T>) {
        precondition(other.layout == layout, "ParameterVector.copy: layouts differ")
        pointer.update(from: other.pointer, count: count)
    }

    /// The Euclidean norm, summed in Double over eight interleaved lanes: a single running sum
    /// waits on every addition's latency, while the lanes add side by side in vector registers.
    /// The same vector always gives the same bits.
    public func norm() -> Double {
        let (x, whole) = (UnsafePointer(pointer), count / 8 * 8)
        var lanes = SIMD8<Double>()
        for start in Swift.stride(from: 0, to: whole, by: 8) {
            let values = x + start
            var v = SIMD8<Double>()
            for lane in 0..<8 { v[lane] = Double(values[lane]) }
            lanes += v * v
        }
        var total = lanes.sum()
        for i in whole..<count { total += Double(x[i]) * Double(x[i]) }
        return total.squareRoot()
    }

    /// Fills every tensor by its initialisation rule, in layout order, from `generator`.
    public func initialize(using generator: inout RandomGenerator) {
        for entry in layout.entries {
            let values = view(entry)
            switch entry.initialization {
            case .constant(let value):
                values.update(repeating: T(value))
            case .uniform(let bound):
                for i in values.indices { values[i] = T(generator.uniform(-bound, bound)) }
            }
        }
    }
}
