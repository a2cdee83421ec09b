import LandscapeCore
import Networks

/// Sharpness-Aware Minimization around any base optimizer.
///
/// SAM (Foret et al. 2021, arXiv:2010.01412) minimises the loss at the worst point of a rho-ball:
/// step 1 moves the weights to `w + e` with `e = rho * g / (||g||_2 + 1e-12)`, the first-order
/// maximiser of the loss in the ball; step 2 takes the gradient there, restores `w` exactly and
/// lets the base optimizer step with that gradient.
///
/// ASAM (Kwon et al. 2021, arXiv:2102.11600) makes the ball scale-invariant with the operator
/// `T = |w| + eta`: `e = rho * T^2 g / ||T g||_2`. Its rho is larger than SAM's, typically 0.5 to 2
/// (the paper uses 0.5 for CIFAR-10 with SGD) against SAM's 0.05; `eta` defaults to the paper's
/// 0.01, and 0 gives the `adaptive=True` form of the widely used PyTorch SAM.
///
/// Two ways to drive it, as the TensorFlow seeds of this project offer: the explicit pair
/// `firstStep` / `secondStep`, or `step` with a closure that computes the loss and gradient at the
/// current weights. Batch-norm running statistics must be updated by the first pass only; the
/// closure is told which pass it computes.
public final class SAM {
    /// Which gradient a closure is asked for.
    public enum Pass: Sendable {
        /// At the weights `w`: the pass that updates batch-norm running statistics.
        case original
        /// At `w + e`: batch statistics are used but running statistics stay.
        case perturbed

        /// The forward mode that honours the rule above.
        public var mode: Mode { self == .original ? .train : .training(updatesStatistics: false) }
    }

    public let base: any Optimizer
    public var rho: Double
    public let adaptive: Bool
    public let eta: Double
    private let saved: Buffer<Float>
    private let count: Int
    private var isPerturbed = false

    public init(base: any Optimizer, parameterCount: Int, rho: Double = 0.05, adaptive: Bool = false, eta: Double = 0.01) {
        precondition(rho >= 0 && eta >= 0, "SAM: rho \(rho) and eta \(eta) must not be negative")
        self.base = base
        self.rho = rho
        self.adaptive = adaptive
        self.eta = eta
        count = parameterCount
        saved = Buffer(count: parameterCount)
    }

    /// Step 1: saves `w` and moves the parameters to `w + e`. Returns the norm the perturbation is
    /// divided by, `||g||` (SAM) or `||T g||` (ASAM).
    /// With `network`, the element-wise work is split between its threads (the norm is not).
    @discardableResult
    public func firstStep(parameters: ParameterVector<Float>, gradients: ParameterVector<Float>, on network: Network<Float>? = nil) -> Double {
        precondition(!isPerturbed, "SAM.firstStep called twice without secondStep or restore")
        precondition(parameters.count == count && gradients.count == count, "SAM: vectors of \(parameters.count) and \(gradients.count) for \(count) parameters")
        let (w, g, copy) = (parameters.pointer, UnsafePointer(gradients.pointer), saved.pointer)
        let norm = adaptive ? adaptiveNorm(w, g) : gradients.norm()
        let (scale, eta, adaptive) = (Float(rho / (norm + 1e-12)), Float(eta), adaptive)
        forEachSlice(of: count, on: network) { range in
            (copy + range.lowerBound).update(from: w + range.lowerBound, count: range.count)
            if adaptive {
                for i in range {
                    let t = abs(w[i]) + eta
                    w[i] += scale * t * t * g[i]
                }
            } else {
                for i in range { w[i] += scale * g[i] }
            }
        }
        isPerturbed = true
        return norm
    }

    /// `||(|w| + eta) * g||`, the norm of ASAM's scaled gradient.
    private func adaptiveNorm(_ w: UnsafePointer<Float>, _ g: UnsafePointer<Float>) -> Double {
        var sumOfSquares = 0.0
        for i in 0..<count {
            let scaled = Double((abs(w[i]) + Float(eta)) * g[i])
            sumOfSquares += scaled * scaled
        }
        return sumOfSquares.squareRoot()
    }

    /// Puts back the weights saved by `firstStep`, bit for bit.
    public func restore(parameters: ParameterVector<Float>, on network: Network<Float>? = nil) {
        precondition(isPerturbed, "SAM.restore called without firstStep")
        forEachSlice(of: count, on: network) { range in restore(range, parameters) }
        isPerturbed = false
    }

    private func restore(_ range: Range<Int>, _ parameters: ParameterVector<Float>) {
        (parameters.pointer + range.lowerBound).update(from: saved.pointer + range.lowerBound, count: range.count)
    }

    /// Step 2: restores `w` and lets the base optimizer step with `gradients`, taken at `w + e`,
    /// each slice restored and updated in one go.
    public func secondStep(parameters: ParameterVector<Float>, gradients: ParameterVector<Float>, on network: Network<Float>? = nil) {
        precondition(isPerturbed, "SAM.secondStep called without firstStep")
        base.beginStep()
        forEachSlice(of: count, on: network) { restoreAndUpdate($0, parameters, gradients) }
        isPerturbed = false
    }

    /// Step 2 fused with `network`'s training pass at `w + e` on the batch `x`: each slice is
    /// restored and updated as soon as its gradient there is final
    /// (`Network.lossAndGradient(_:labels:smoothing:mode:update:)`), which gives the same bits as
    /// the pass followed by `secondStep`. Returns the pass's evaluation, the loss at `w + e`.
    @discardableResult
    public func secondStep(_ network: Network<Float>, _ x: Tensor<Float>, labels: UnsafePointer<Int32>, smoothing: Double = 0) -> Evaluation {
        precondition(isPerturbed, "SAM.secondStep called without firstStep")
        let (parameters, gradients) = (network.parameters, network.gradients)
        base.beginStep()
        let perturbed = network.lossAndGradient(x, labels: labels, smoothing: smoothing, mode: Pass.perturbed.mode) {
            restoreAndUpdate($0, parameters, gradients)
        }
        isPerturbed = false
        return perturbed
    }

    private func restoreAndUpdate(_ range: Range<Int>, _ parameters: ParameterVector<Float>, _ gradients: ParameterVector<Float>) {
        restore(range, parameters)
        base.update(range, parameters: parameters, gradients: gradients)
    }

    /// A whole SAM step: `computeGradient` fills the gradients at the current weights and returns
    /// the batch's loss; it is called at `w`, then at `w + e`. Returns both evaluations.
    @discardableResult
    public func step(parameters: ParameterVector<Float>, gradients: ParameterVector<Float>, on network: Network<Float>? = nil,
                     _ computeGradient: (Pass) -> Evaluation) -> (original: Evaluation, perturbed: Evaluation) {
        let original = computeGradient(.original)
        firstStep(parameters: parameters, gradients: gradients, on: network)
        let perturbed = computeGradient(.perturbed)
        secondStep(parameters: parameters, gradients: gradients, on: network)
        return (original, perturbed)
    }

    /// A whole SAM step on `network`'s batch `x`: the pass at `w`, step 1, and the pass at `w + e`
    /// fused with step 2. The same bits as `step` with `network.lossAndGradient` as the closure.
    @discardableResult
    public func step(_ network: Network<Float>, _ x: Tensor<Float>, labels: UnsafePointer<Int32>,
                     smoothing: Double = 0) -> (original: Evaluation, perturbed: Evaluation) {
        let original = network.lossAndGradient(x, labels: labels, smoothing: smoothing, mode: Pass.original.mode)
        firstStep(parameters: network.parameters, gradients: network.gradients, on: network)
        return (original, secondStep(network, x, labels: labels, smoothing: smoothing))
    }

    /// The method and its settings around the base optimizer's JSON.
    public var json: String {
        #"{"name":"\#(adaptive ? "asam" : "sam")","rho":\#(rho),"eta":\#(adaptive ? eta : 0),"base":\#(base.json)}"#
    }
}
