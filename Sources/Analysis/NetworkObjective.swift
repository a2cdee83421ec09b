import LandscapeCore
import Networks
import Training

/// The mean loss of a network over a fixed evaluation set as a function of its parameters.
///
/// Batch-norm uses its running statistics by default (`Mode.evaluation`), so the function is a
/// deterministic function of the weights; `.training(updatesStatistics: false)` evaluates with batch
/// statistics instead. The running statistics themselves never change.
public final class NetworkObjective: Objective {
    public let network: Network<Float>
    public let data: Dataset
    public let mode: Mode
    /// The parameters the network had when the objective was made.
    public let origin: [Double]
    /// Forward passes over the whole set so far (a gradient counts as one).
    public private(set) var passes = 0
    private let loader: BatchLoader
    private let accumulated: Buffer<Double>

    public init(network: Network<Float>, data: Dataset, batchSize: Int = 500, mode: Mode = .evaluation) {
        precondition(data.count > 0, "NetworkObjective: no data")
        self.network = network
        self.data = data
        self.mode = mode
        origin = network.parameters.elements.map(Double.init)
        loader = BatchLoader(data, batchSize: min(batchSize, data.count), seed: 0, shuffles: false)
        accumulated = Buffer(count: network.parameters.count)
    }

    public var dimension: Int { network.parameters.count }

    public var blocks: [(name: String, range: Range<Int>)] {
        network.parameters.layout.entries.map { ($0.name, $0.range) }
    }

    /// Puts `point` into the network's parameters.
    public func load(_ point: [Double]) {
        precondition(point.count == dimension, "NetworkObjective: point of \(point.count) for \(dimension) parameters")
        let w = network.parameters.pointer
        for i in 0..<dimension { w[i] = Float(point[i]) }
    }

    /// Loss and accuracy at `point` over the whole set.
    public func evaluation(at point: [Double]) -> Evaluation {
        load(point)
        passes += 1
        return network.evaluate(loader, mode: mode)
    }

    public func value(at point: [Double]) -> Double { evaluation(at: point).loss }

    public func gradient(at point: [Double]) -> (value: Double, gradient: [Double]) {
        load(point)
        passes += 1
        accumulated.zero(dimension)
        var total = Evaluation(loss: 0, correct: 0, count: 0)
        let (sum, g) = (accumulated.pointer, network.gradients.pointer)
        for index in 0..<loader.batchCount {
            let (images, labels) = loader.batch(index)
            let batch = network.lossAndGradient(images, labels: labels, mode: mode)
            total = total.merged(with: batch)
            let weight = Double(batch.count) / Double(data.count)
            for i in 0..<dimension { sum[i] += weight * Double(g[i]) }
        }
        return (total.loss, Array(UnsafeBufferPointer(start: sum, count: dimension)))
    }

    /// By central differences of gradients computed in Double on a copy of the network,
    /// `(g(w + h v) - g(w - h v)) / 2h`, starting from a step of about 1e-7 of the weights' scale.
    ///
    /// ReLU and max pooling make the loss piecewise smooth. Along most directions the nearest kink
    /// is far beyond that step, but where many units share one pre-activation (a filter's response
    /// to a constant image background) a kink can lie closer and the difference jumps. So the product
    /// is computed again with an eighth of the step, and the step keeps shrinking (to 1/512 of the
    /// first) until two successive products agree to 1e-4: the Hessian of the smooth piece the
    /// weights lie in, which is what exact second-order automatic differentiation gives.
    public func hessianVectorProduct(at point: [Double], _ vector: [Double]) -> [Double] {
        let vectorNorm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard vectorNorm > 0 else { return [Double](repeating: 0, count: vector.count) }
        let pointNorm = point.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var h = 1e-7 * (1 + pointNorm) / vectorNorm
        func product(_ h: Double) -> [Double] {
            let plus = doubleGradient(at: zip(point, vector).map { $0 + h * $1 })
            let minus = doubleGradient(at: zip(point, vector).map { $0 - h * $1 })
            return zip(plus, minus).map { ($0 - $1) / (2 * h) }
        }
        var previous = product(h)
        for _ in 0..<3 {
            h /= 8
            let next = product(h)
            let difference = zip(next, previous).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            let size = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if difference <= 1e-4 * size { return next }
            previous = next
        }
        return previous
    }

    /// The network in Double with the same layers and running statistics, for Hessian-vector products.
    private lazy var twin: Network<Double> = {
        let twin = Network<Double>(layers: network.specs, inputShape: network.inputShape, architecture: network.architecture)
        for i in 0..<network.state.count { twin.state.pointer[i] = Double(network.state.pointer[i]) }
        return twin
    }()
    private let doubleImages = Buffer<Double>(count: 0)

    /// The mean gradient over the set at `point`, computed in Double.
    private func doubleGradient(at point: [Double]) -> [Double] {
        let twin = self.twin
        for i in 0..<dimension { twin.parameters.pointer[i] = point[i] }
        passes += 1
        var sum = [Double](repeating: 0, count: dimension)
        for index in 0..<loader.batchCount {
            let (images, labels) = loader.batch(index)
            doubleImages.reserve(images.shape.count)
            for i in 0..<images.shape.count { doubleImages.pointer[i] = Double(images.pointer[i]) }
            let batch = twin.lossAndGradient(Tensor(doubleImages, images.shape), labels: labels, mode: mode)
            let weight = Double(batch.count) / Double(data.count)
            let g = twin.gradients.pointer
            for i in 0..<dimension { sum[i] += weight * g[i] }
        }
        return sum
    }

    /// Puts the original parameters back.
    public func restore() { load(origin) }
}
