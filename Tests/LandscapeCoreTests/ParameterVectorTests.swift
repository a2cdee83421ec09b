import LandscapeCore
import Numerics
import Testing

/// The flat parameter vector, its layout of named tensors, and the aligned buffers behind it.
struct ParameterVectorTests {
    /// A conv weight and bias, a batch-norm pair and a linear layer: 4 tensors, 2 initialisations.
    static func layout() -> ParameterLayout {
        var layout = ParameterLayout()
        layout.append("conv.weight", shape: [4, 1, 3, 3], role: .weight, initialization: .pytorchDefault(fanIn: 9))
        layout.append("bn.weight", shape: [4], role: .normScale, initialization: .constant(1))
        layout.append("bn.bias", shape: [4], role: .normShift, initialization: .constant(0))
        layout.append("fc.weight", shape: [3, 4], role: .weight, initialization: .uniform(bound: 0.5))
        layout.append("fc.bias", shape: [3], role: .bias, initialization: .constant(-0.25))
        return layout
    }

    @Test("the norm is the square root of the sum of squares, for counts on and off a multiple of 8")
    func norm() {
        for count in [1, 7, 8, 59, 1000] {
            var layout = ParameterLayout()
            layout.append("v", shape: [count], role: .weight, initialization: .constant(0))
            let vector = ParameterVector<Float>(layout: layout)
            var generator = RandomGenerator(seed: UInt64(count))
            for i in 0..<count { vector.pointer[i] = Float(generator.normal()) }
            let exact = vector.elements.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(vector.norm() - exact) <= 1e-14 * exact, "\(count) values")
        }
        #expect(ParameterVector<Float>(layout: Self.layout()).norm() == 0)
    }

    // MARK: - ParameterLayout

    @Test("offsets are cumulative and the count is the sum of the tensors' sizes")
    func offsets() {
        var layout = ParameterLayout()
        #expect(layout.count == 0 && layout.entries.isEmpty)
        #expect(layout.append("a", shape: [2, 3], role: .weight, initialization: .constant(0)) == 0)
        #expect(layout.append("b", shape: [4], role: .bias, initialization: .constant(0)) == 6)
        #expect(layout.append("scalar", shape: [], role: .bias, initialization: .constant(0)) == 10)
        #expect(layout.append("c", shape: [2, 1, 3, 3], role: .weight, initialization: .constant(0)) == 11)
        #expect(layout.count == 29)
        #expect(layout.entries.map(\.offset) == [0, 6, 10, 11])
        #expect(layout.entries.map(\.count) == [6, 4, 1, 18])
        #expect(layout.entries.map(\.range) == [0..<6, 6..<10, 10..<11, 11..<29])

        let full = Self.layout()
        #expect(full.entries.map(\.offset) == [0, 36, 40, 44, 56])
        #expect(full.count == 59)
        for (previous, next) in zip(full.entries, full.entries.dropFirst()) {
            #expect(previous.range.upperBound == next.offset)
        }
    }

    @Test("entry(named:) finds an entry with its shape, role and initialisation, and nil otherwise")
    func entryByName() throws {
        let layout = Self.layout()
        let fc = try #require(layout.entry(named: "fc.weight"))
        #expect(fc.name == "fc.weight")
        #expect(fc.shape == [3, 4])
        #expect(fc.offset == 44)
        #expect(fc.role == .weight)
        #expect(fc.initialization == .uniform(bound: 0.5))
        #expect(layout.entry(named: "bn.bias")?.role == .normShift)
        #expect(layout.entry(named: "fc") == nil)
        #expect(layout.entry(named: "FC.WEIGHT") == nil)
        #expect(layout.entry(named: "") == nil)
    }

    @Test("layouts compare equal exactly when built the same way")
    func layoutEquality() {
        #expect(Self.layout() == Self.layout())
        var other = Self.layout()
        other.append("extra", shape: [1], role: .bias, initialization: .constant(0))
        #expect(other != Self.layout())
    }

    @Test("pytorchDefault(fanIn:) is uniform with bound 1 / sqrt(fanIn)", arguments: [(9, 1.0 / 3), (1, 1), (4, 0.5), (784, 1.0 / 28)] as [(Int, Double)])
    func pytorchDefault(fanIn: Int, bound: Double) throws {
        guard case .uniform(let actual) = Initialization.pytorchDefault(fanIn: fanIn) else {
            Issue.record("pytorchDefault(fanIn: \(fanIn)) is not uniform")
            return
        }
        #expect(actual.isApproximatelyEqual(to: bound, relativeTolerance: 1e-15))
    }

    // MARK: - ParameterVector

    @Test("a new vector is zero-filled and has the layout's count")
    func zeroFilled() {
        let vector = ParameterVector<Float>(layout: Self.layout())
        #expect(vector.count == 59)
        #expect(vector.elements.count == 59)
        #expect(vector.elements.allSatisfy { $0 == 0 })
        #expect(vector.pointer == vector.buffer.pointer)
    }

    @Test("view and subscript map each tensor to its range of the vector")
    func viewsAndSubscripts() {
        let layout = Self.layout()
        let vector = ParameterVector<Double>(layout: layout)
        for i in 0..<vector.count { vector.pointer[i] = Double(i) }
        for entry in layout.entries {
            let view = vector.view(entry)
            #expect(view.baseAddress == vector.pointer + entry.offset)
            #expect(view.count == entry.count)
            #expect(Array(view) == entry.range.map(Double.init))
            #expect(vector[entry.name].baseAddress == view.baseAddress)
            #expect(vector[entry.name].count == view.count)
        }
        // Writes through a view land in the vector.
        vector["bn.bias"][2] = -7
        #expect(vector.pointer[42] == -7)
        vector.view(layout.entries[0]).update(repeating: 3)
        #expect(vector.elements[0..<36].allSatisfy { $0 == 3 })
        #expect(vector.elements[36] == 36)
    }

    @Test("copy(from:) copies every element and leaves the source alone")
    func copy() {
        let source = ParameterVector<Float>(layout: Self.layout())
        for i in 0..<source.count { source.pointer[i] = Float(i) * 0.5 - 3 }
        let destination = ParameterVector<Float>(layout: Self.layout())
        destination.elements.update(repeating: 99)
        destination.copy(from: source)
        #expect(Array(destination.elements) == Array(source.elements))
        #expect(destination.pointer != source.pointer)
        destination.pointer[0] = 1234
        #expect(source.pointer[0] == -3)
    }

    @Test("initialize(using:) sets constants exactly and uniform tensors within their bounds")
    func initialization() throws {
        let layout = Self.layout()
        let vector = ParameterVector<Float>(layout: layout)
        var generator = RandomGenerator(seed: 1)
        vector.initialize(using: &generator)
        #expect(vector["bn.weight"].allSatisfy { $0 == 1 })
        #expect(vector["bn.bias"].allSatisfy { $0 == 0 })
        #expect(vector["fc.bias"].allSatisfy { $0 == -0.25 })
        for (name, bound) in [("conv.weight", Float(1.0 / 3)), ("fc.weight", 0.5)] {
            let values = vector[name]
            #expect(values.allSatisfy { -bound <= $0 && $0 <= bound }, "\(name)")
            // Random, not constant: both signs appear and no two values coincide.
            #expect(values.contains { $0 < 0 } && values.contains { $0 > 0 }, "\(name)")
            #expect(Set(values).count == values.count, "\(name)")
        }
        // The uniform tensors use the generator in layout order: conv.weight's 36 draws, then fc.weight's 12.
        var replay = RandomGenerator(seed: 1)
        let conv = (0..<36).map { _ in Float(replay.uniform(-1.0 / 3, 1.0 / 3)) }
        let fc = (0..<12).map { _ in Float(replay.uniform(-0.5, 0.5)) }
        #expect(Array(vector["conv.weight"]) == conv)
        #expect(Array(vector["fc.weight"]) == fc)
    }

    @Test("initialize(using:) is deterministic for a seed and differs between seeds")
    func initializationIsDeterministic() {
        func initialized(seed: UInt64) -> [UInt64] {
            let vector = ParameterVector<Double>(layout: Self.layout())
            var generator = RandomGenerator(seed: seed)
            vector.initialize(using: &generator)
            return vector.elements.map(\.bitPattern)
        }
        #expect(initialized(seed: 8) == initialized(seed: 8))
        #expect(initialized(seed: 8) != initialized(seed: 9))
    }

    @Test("a uniform initialisation fills a large tensor across its whole range")
    func uniformCoverage() {
        var layout = ParameterLayout()
        layout.append("w", shape: [100, 100], role: .weight, initialization: .pytorchDefault(fanIn: 9))
        let vector = ParameterVector<Float>(layout: layout)
        var generator = RandomGenerator(seed: 2)
        vector.initialize(using: &generator)
        let values = Array(vector.elements)
        let bound = Float(1.0 / 3)
        #expect(values.allSatisfy { -bound <= $0 && $0 <= bound })
        #expect(values.min()! < -0.33 && values.max()! > 0.33)
        let mean = values.reduce(0, +) / Float(values.count)
        #expect(abs(mean) < 0.01)
        // Uniform on [-b, b) has variance b^2 / 3.
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)
        #expect(Double(variance).isApproximatelyEqual(to: 1.0 / 27, relativeTolerance: 0.05))
    }

    // MARK: - Buffer

    @Test("a buffer is zero-filled and 64-byte aligned", arguments: [0, 1, 3, 17, 1000])
    func bufferAllocation(count: Int) {
        let floats = Buffer<Float>(count: count)
        #expect(floats.capacity == count)
        #expect(floats.elements(count).allSatisfy { $0 == 0 })
        #expect(Int(bitPattern: floats.pointer) % 64 == 0)
        let integers = Buffer<Int32>(count: count)
        #expect(integers.elements(count).allSatisfy { $0 == 0 })
        #expect(Int(bitPattern: integers.pointer) % 64 == 0)
        let doubles = Buffer<Double>(count: count)
        #expect(Int(bitPattern: doubles.pointer) % 64 == 0)
    }

    @Test("reserve grows the capacity with fresh zero-filled aligned memory and never shrinks it")
    func bufferReserve() {
        let buffer = Buffer<Double>(count: 4)
        buffer.elements(4).update(repeating: 5)
        let original = buffer.pointer

        buffer.reserve(2)
        #expect(buffer.capacity == 4)
        #expect(buffer.pointer == original)
        buffer.reserve(4)
        #expect(buffer.capacity == 4)
        #expect(buffer.elements(4).allSatisfy { $0 == 5 })

        buffer.reserve(100)
        #expect(buffer.capacity == 100)
        #expect(buffer.elements(100).allSatisfy { $0 == 0 })
        #expect(Int(bitPattern: buffer.pointer) % 64 == 0)
    }

    @Test("zero(_:) clears only the first elements")
    func bufferZero() {
        let buffer = Buffer<Float>(count: 8)
        buffer.elements(8).update(repeating: 2)
        buffer.zero(5)
        #expect(Array(buffer.elements(8)) == [0, 0, 0, 0, 0, 2, 2, 2])
    }
}
