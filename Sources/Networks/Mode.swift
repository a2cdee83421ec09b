/// How a forward pass treats batch-norm.
public enum Mode: Sendable, Equatable {
    /// Normalise with the batch's own statistics; `updatesStatistics` says whether the running
    /// statistics move. SAM's second pass, at the perturbed weights, uses `false`, so the running
    /// statistics see only the real weights.
    case training(updatesStatistics: Bool)
    /// Normalise with the running statistics (PyTorch's `model.eval()`).
    case evaluation

    /// The ordinary training pass.
    public static let train = Mode.training(updatesStatistics: true)
}
