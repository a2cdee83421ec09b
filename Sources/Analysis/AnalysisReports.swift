/// The results file of `landscape sharpness`: every measure with its settings and its time.
public struct SharpnessReport: Codable, Sendable {
    public var checkpoint: String
    public var checkpointSHA256: String
    /// The evaluation set, e.g. "fashion-mnist train, 1000 samples (seed 0), batch-norm eval".
    public var evaluation: String
    public var loss: Double
    public var accuracy: Double
    public var worstCase: WorstCaseSharpness?
    public var adaptive: WorstCaseSharpness?
    public var average: AverageSharpness?
    public var adaptiveAverage: AverageSharpness?
    public var keskar: KeskarSharpness?
    public var mSharpness: MSharpness?
    /// Wall time of each measure, seconds.
    public var seconds: [String: Double]

    public init(checkpoint: String, checkpointSHA256: String, evaluation: String, loss: Double, accuracy: Double) {
        self.checkpoint = checkpoint
        self.checkpointSHA256 = checkpointSHA256
        self.evaluation = evaluation
        self.loss = loss
        self.accuracy = accuracy
        seconds = [:]
    }

    enum CodingKeys: String, CodingKey {
        case checkpoint, checkpointSHA256 = "checkpoint_sha256", evaluation, loss, accuracy
        case worstCase = "worst_case", adaptive, average, adaptiveAverage = "adaptive_average", keskar
        case mSharpness = "m_sharpness", seconds
    }
}

/// The results file of `landscape hessian`.
public struct HessianReport: Codable, Sendable {
    public var checkpoint: String
    public var checkpointSHA256: String
    public var evaluation: String
    public var loss: Double
    public var eigenvalues: HessianEigenvalues?
    public var trace: HessianTrace?
    public var blocks: HessianBlockSpectra?
    public var density: SpectralDensity?
    public var seconds: [String: Double]

    public init(checkpoint: String, checkpointSHA256: String, evaluation: String, loss: Double) {
        self.checkpoint = checkpoint
        self.checkpointSHA256 = checkpointSHA256
        self.evaluation = evaluation
        self.loss = loss
        seconds = [:]
    }

    enum CodingKeys: String, CodingKey {
        case checkpoint, checkpointSHA256 = "checkpoint_sha256", evaluation, loss, eigenvalues, trace, blocks, density, seconds
    }
}
