import LandscapeCore
import Networks
import Training

extension Sharpness {
    /// m-sharpness: the worst-case sharpness of each sub-batch objective, averaged,
    ///
    ///     S_m = (1 / K) sum_k max_{||d_k||_p <= rho} [L_k(w + d_k) - L_k(w)],
    ///
    /// where `L_k` is the loss on the `k`-th sub-batch of `m` samples, each with its own worst
    /// perturbation (Foret et al. 2021, sec. 4.1, who found small `m` to correlate best with
    /// generalization; Andriushchenko and Flammarion, "Towards Understanding Sharpness-Aware
    /// Minimization", ICML 2022). The caller makes the objectives (see `subBatchObjectives`);
    /// every one must have the dimension of `point`.
    ///
    /// Chunk `k` runs `worstCase` with `settings` and the seed `settings.seed + k` (recorded in its
    /// result), so each chunk's result can be reproduced alone. The parameters of every
    /// `NetworkObjective` are restored.
    public static func mSharpness(of objectives: [any Objective], at point: [Double], settings: WorstCaseSharpnessSettings) -> MSharpness {
        precondition(!objectives.isEmpty, "Sharpness.mSharpness: no sub-batch objectives")
        let chunks = objectives.enumerated().map { index, objective in
            var chunkSettings = settings
            chunkSettings.seed = settings.seed &+ UInt64(index)
            return worstCase(of: objective, at: point, settings: chunkSettings)
        }
        let values = chunks.map(\.sharpness)
        let (mean, error) = DenseVector.meanAndStandardError(values)
        return MSharpness(settings: settings, sharpness: mean, standardError: values.count > 1 ? error : nil,
                          meanLoss: chunks.reduce(0) { $0 + $1.loss } / Double(chunks.count), chunks: chunks)
    }

    /// One `NetworkObjective` per consecutive sub-batch of `m` samples of `data` (in order;
    /// `data.count / m` of them, a remainder smaller than `m` left out so that every chunk has the
    /// same size), all on `network`, for `mSharpness`.
    public static func subBatchObjectives(network: Network<Float>, data: Dataset, m: Int, mode: Mode = .evaluation) -> [NetworkObjective] {
        precondition(m >= 1 && m <= data.count, "Sharpness.subBatchObjectives: m = \(m) for \(data.count) samples")
        let size = data.sampleSize
        return (0..<(data.count / m)).map { k in
            let chunk = Dataset(name: "\(data.name)[\(k * m)..<\((k + 1) * m)]",
                                images: Array(data.images[(k * m * size)..<((k + 1) * m * size)]),
                                labels: Array(data.labels[(k * m)..<((k + 1) * m)]),
                                height: data.height, width: data.width, channels: data.channels, classes: data.classes)
            return NetworkObjective(network: network, data: chunk, batchSize: m, mode: mode)
        }
    }
}

/// An m-sharpness: worst-case sharpness per sub-batch, averaged.
public struct MSharpness: Codable, Sendable, Equatable {
    /// The settings every chunk ran with (chunk `k` with the seed `seed + k`).
    public let settings: WorstCaseSharpnessSettings
    /// The mean of the chunks' sharpness.
    public let sharpness: Double
    /// The standard error of that mean over chunks (nil for a single chunk).
    public let standardError: Double?
    /// The mean of the chunks' unperturbed losses.
    public let meanLoss: Double
    /// Every chunk's full result, in order.
    public let chunks: [WorstCaseSharpness]

    /// Every chunk's sharpness, in order.
    public var values: [Double] { chunks.map(\.sharpness) }
}
