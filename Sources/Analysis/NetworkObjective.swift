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
            let batch = loader.withBatch(index) { images, labels in network.lossAndGradient(images, labels: labels, mode: mode) }
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
    ///
    /// A kink closer than the smallest step (or at `w` itself) spoils every central difference, since
    /// the gradient jumps across it, but only on its side: then the one-sided differences
    /// `(g(w + h v) - g(w)) / h` and `(g(w) - g(w - h v)) / h`, from the same gradients and `g(w)`,
    /// are tried the same way, and the side whose products agree gives the piece `w` lies in. When no
    /// side settles either, the last central difference is returned and counted in
    /// `unsettledProducts`.
    public func hessianVectorProduct(at point: [Double], _ vector: [Double]) -> [Double] {
        let vectorNorm = DenseVector.norm(vector)
        guard vectorNorm > 0 else { return [Double](repeating: 0, count: vector.count) }
        let first = 1e-7 * (1 + DenseVector.norm(point)) / vectorNorm
        let steps = (0..<4).map { first / Double(1 << (3 * $0)) }
        func agree(_ a: [Double], _ b: [Double]) -> Bool {
            DenseVector.norm(zip(a, b).map { $0 - $1 }) <= 1e-4 * DenseVector.norm(b)
        }
        /// The first of `products` (one per step) that agrees with the one before it.
        func settled(_ products: [[Double]]) -> [Double]? {
            zip(products, products.dropFirst()).first { agree($0.0, $0.1) }?.1
        }
        var (plus, minus, central): ([[Double]], [[Double]], [[Double]]) = ([], [], [])
        for h in steps {
            plus.append(doubleGradient(at: zip(point, vector).map { $0 + h * $1 }))
            minus.append(doubleGradient(at: zip(point, vector).map { $0 - h * $1 }))
            central.append(zip(plus.last!, minus.last!).map { ($0 - $1) / (2 * h) })
            if let product = settled(central) { return product }
        }
        let g = gradientInDouble(at: point)
        let forward = zip(plus, steps).map { side, h in zip(side, g).map { ($0 - $1) / h } }
        let backward = zip(minus, steps).map { side, h in zip(g, side).map { ($0 - $1) / h } }
        if let product = settled(backward) ?? settled(forward) { return product }
        unsettledProducts += 1
        return central.last!
    }

    /// Hessian-vector products whose differences did not settle at any step, from either side.
    public private(set) var unsettledProducts = 0

    /// `g(w)` in Double, kept for the last point asked (the Hessian routines ask at one point).
    private var lastGradient: (point: [Double], gradient: [Double])?

    private func gradientInDouble(at point: [Double]) -> [Double] {
        if let last = lastGradient, last.point == point { return last.gradient }
        let gradient = doubleGradient(at: point)
        lastGradient = (point, gradient)
        return gradient
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
