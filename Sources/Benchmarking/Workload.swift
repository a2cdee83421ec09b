import Networks

/// A workload of the reference benchmark (`shared/bench/WORKLOADS.md`): what is timed, on which
/// model, in which unit.
public struct Workload: Sendable, Hashable {
    public enum Kind: String, Sendable {
        /// A training step at batch 128: forward, backward, SGD with momentum 0.9, lr 0.05,
        /// weight decay 5e-4.
        case sgd
        /// A SAM step over that SGD, rho 0.05: two forward-backward passes.
        case sam
        /// Forward only, batch-norm in evaluation mode, batch 1000.
        case eval
        /// Points of a 21x21 surface along two filter-normalized directions (biases and batch-norm
        /// ignored): set the weights, then loss and accuracy on the first 2000 test images.
        case surface
        /// The top Hessian eigenvalue by Lanczos to 1e-3 relative, on the first 1000 training images.
        case hessian
    }

    public let model: String
    public let kind: Kind

    public init(model: String, kind: Kind) {
        self.model = model
        self.kind = kind
    }

    /// Parses `model.kind`, e.g. `cnn.sgd`.
    public init?(id: String) {
        let parts = id.split(separator: ".")
        guard parts.count == 2, let kind = Kind(rawValue: String(parts[1])),
              (try? Architecture(name: String(parts[0]))) != nil else { return nil }
        self.init(model: String(parts[0]), kind: kind)
    }

    public var id: String { "\(model).\(kind.rawValue)" }
    public var unit: String {
        switch kind {
        case .surface: "points/s"
        case .hessian: "seconds"
        default: "samples/s"
        }
    }
    public var batchSize: Int {
        switch kind {
        case .sgd, .sam: 128
        case .eval: 1000
        case .surface: 2000
        case .hessian: 1000
        }
    }

    /// GEMM FLOPs per unit: per sample the forward pass, three times it for a training step
    /// (forward, input gradients, weight gradients), six for a SAM step; per surface point 2000
    /// forward passes. (The Hessian is timed in seconds and gets none.)
    public var flopsPerSample: Int {
        let forward = (try? Architecture(name: model).forwardFLOPs) ?? 0
        switch kind {
        case .eval: return forward
        case .surface: return 2000 * forward
        case .sgd: return 3 * forward
        case .sam: return 6 * forward
        case .hessian: return 0
        }
    }

    /// Every workload the benchmark measures, in the order of WORKLOADS.md.
    public static let all: [Workload] = ["mlp", "cnn", "resnet8"].flatMap { model in
        [Workload(model: model, kind: .sgd), Workload(model: model, kind: .sam), Workload(model: model, kind: .eval)]
    } + [Workload(model: "cnn", kind: .surface), Workload(model: "cnn", kind: .hessian)]

    /// The best of PyTorch, TensorFlow (with and without XLA) and JAX on this machine kind, as
    /// WORKLOADS.md reports them (measured 2026-11-23, 2 threads).
    public var bestPeer: Double? {
        [
            "mlp.sgd": 99_009, "mlp.sam": 51_029, "mlp.eval": 301_487,
            "cnn.sgd": 6_973, "cnn.sam": 3_491, "cnn.eval": 24_424,
            "resnet8.sgd": 1_720, "resnet8.sam": 781, "resnet8.eval": 6_365, "cnn.surface": 12.9,
        ][id]
    }
}
