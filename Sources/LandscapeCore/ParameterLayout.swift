/// What a tensor of the parameter vector is to the network; analysis treats roles differently
/// (filter normalisation, `--ignore biasbn`, adaptive sharpness).
public enum ParameterRole: String, Sendable, Codable {
    /// A convolution or linear weight, `[out, in, kh, kw]` or `[out, in]`: `out` filters.
    case weight
    case bias
    /// Batch-norm's `weight` (gamma) and `bias` (beta).
    case normScale, normShift
    /// Batch-norm's running statistics (state, not trained).
    case runningMean, runningVariance
}

/// How a tensor is initialised, following PyTorch's defaults for the same layer.
public enum Initialization: Sendable, Equatable {
    /// Uniform in `[-bound, bound)`.
    case uniform(bound: Double)
    /// Every element set to a value.
    case constant(Double)

    /// PyTorch's default for conv and linear weights, `kaiming_uniform_(a: sqrt(5))`: the bound is
    /// `gain * sqrt(3 / fanIn)` with `gain = sqrt(2 / (1 + a^2))`, which is `1 / sqrt(fanIn)`; the
    /// same bound is used for their biases. `fanIn` is `in * kh * kw`.
    public static func pytorchDefault(fanIn: Int) -> Initialization {
        .uniform(bound: 1 / Double(fanIn).squareRoot())
    }
}

/// One named tensor in a flat vector: PyTorch's `state_dict` name and shape, and where it lives.
public struct ParameterEntry: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public let role: ParameterRole
    public let initialization: Initialization

    /// Elements in the tensor.
    public var count: Int { shape.reduce(1, *) }
    /// The elements' range in the vector.
    public var range: Range<Int> { offset..<(offset + count) }
}

/// The names, shapes and offsets of tensors packed one after another in a single vector.
///
/// The whole model is one vector (DESIGN.md): a SAM perturbation, a point of a loss surface or an
/// optimizer step is then vector arithmetic, and each layer reads its tensors through an offset.
public struct ParameterLayout: Sendable, Equatable {
    public private(set) var entries: [ParameterEntry] = []
    /// Elements in the whole vector.
    public private(set) var count = 0

    public init() {}

    /// Adds a tensor at the end and returns its offset.
    @discardableResult
    public mutating func append(_ name: String, shape: [Int], role: ParameterRole, initialization: Initialization) -> Int {
        precondition(!entries.contains { $0.name == name }, "ParameterLayout: duplicate tensor name \(name)")
        let entry = ParameterEntry(name: name, shape: shape, offset: count, role: role, initialization: initialization)
        entries.append(entry)
        count += entry.count
        return entry.offset
    }

    /// The tensor with this name, if there is one.
    public func entry(named name: String) -> ParameterEntry? {
        entries.first { $0.name == name }
    }
}
