import LandscapeCore

/// The loss and accuracy of a batch of logits: mean softmax cross-entropy over the batch, with
/// optional label smoothing as PyTorch's `F.cross_entropy(..., label_smoothing: eps)` defines it
/// (Szegedy et al. 2016): the target is `q = (1 - eps) * onehot(y) + eps / K`, the loss of a sample
/// `-sum_k q_k log softmax(z)_k`, and its gradient `(softmax(z) - q) / n` for the mean over `n`.
/// Each row is computed in Double with the max subtracted, so large logits do not overflow.
public final class SoftmaxCrossEntropy<T: Scalar> {
    private let gradient = Buffer<T>(count: 0)
    /// Each sample's loss in the last `forward`.
    private let losses = Buffer<Double>(count: 0)
    private var shape: Shape?
    /// Whether the last `forward` computed the gradient.
    private var hasGradient = false

    public init() {}

    /// The mean loss and the number of samples whose largest logit (first, on ties) is the label;
    /// with `gradient`, also prepares `backward()` (a pass without backward leaves it out, and half
    /// the exponentials). When the logits are part of a larger batch of `batch` samples, the
    /// gradient is that of the larger batch's mean loss.
    public func forward(_ logits: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double = 0, batch: Int? = nil,
                        gradient computesGradient: Bool = true) -> (loss: Double, correct: Int) {
        let (n, classes) = (logits.shape.n, logits.shape.sampleSize)
        let divisor = Double(batch ?? n)
        precondition(smoothing >= 0 && smoothing <= 1, "SoftmaxCrossEntropy: label smoothing \(smoothing) outside [0, 1]")
        if computesGradient { gradient.reserve(logits.shape.count) }
        losses.reserve(n)
        shape = logits.shape
        hasGradient = computesGradient
        var correct = 0
        let uniform = smoothing / Double(classes)
        for row in 0..<n {
            let (z, g) = (logits.pointer + row * classes, gradient.pointer + row * classes)
            let label = Int(labels[row])
            precondition(label >= 0 && label < classes, "SoftmaxCrossEntropy: label \(label) outside 0..<\(classes)")
            var best = 0
            for k in 1..<classes where z[k] > z[best] { best = k }
            if best == label { correct += 1 }
            let top = Double(z[best])
            var expSum = 0.0
            var zSum = 0.0
            for k in 0..<classes {
                expSum += Double.exp(Double(z[k]) - top)
                zSum += Double(z[k])
            }
            let logNormalizer = top + Double.log(expSum)
            losses.pointer[row] = logNormalizer - (1 - smoothing) * Double(z[label]) - uniform * zSum
            guard computesGradient else { continue }
            for k in 0..<classes {
                let target = (k == label ? 1 - smoothing : 0) + uniform
                g[k] = T((Double.exp(Double(z[k]) - logNormalizer) - target) / divisor)
            }
        }
        return (sampleLosses.reduce(0, +) / Double(n), correct)
    }

    /// Each sample's loss in the last `forward`, in order.
    var sampleLosses: UnsafeBufferPointer<Double> {
        UnsafeBufferPointer(start: losses.pointer, count: shape?.n ?? 0)
    }

    /// The gradient of the mean loss with respect to the logits of the last `forward`.
    public func backward() -> Tensor<T> {
        guard let shape, hasGradient else { preconditionFailure("SoftmaxCrossEntropy.backward called without a forward that computed the gradient") }
        return Tensor(gradient.pointer, shape)
    }
}
