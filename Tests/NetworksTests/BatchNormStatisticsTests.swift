import LandscapeCore
import Networks
import Testing

/// Batch-norm's training statistics in Float, on values whose mean is a hundred times their spread:
/// sums of squares taken naively would lose the variance to cancellation.
struct BatchNormStatisticsTests {
    static let shape = Shape(n: 12, height: 10, width: 10, channels: 3)

    /// Values `50 + c + 0.5 * normal` in channel `c`: 1,200 per channel, many blocks of rows.
    static func images() -> [Float] {
        var generator = RandomGenerator(seed: 8)
        return (0..<shape.count).map { i in Float(50 + Double(i % 3) + 0.5 * generator.normal()) }
    }

    /// Each channel's mean and biased variance, in Double from the Float values, two-pass.
    static func exactStatistics(_ x: [Float]) -> [(mean: Double, variance: Double)] {
        (0..<3).map { c in
            let values = stride(from: c, to: x.count, by: 3).map { Double(x[$0]) }
            let mean = values.reduce(0, +) / Double(values.count)
            return (mean, values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count))
        }
    }

    @Test("the normalised output matches normalising by the exact statistics")
    func output() {
        let network = Network<Float>(layers: [.batchNorm2d(name: "bn", channels: 3)], inputShape: Self.shape)
        network.initialize(seed: 1)
        var x = Self.images()
        let exact = Self.exactStatistics(x)
        let y = x.withUnsafeMutableBufferPointer { Array(UnsafeBufferPointer(network.forward(Tensor($0.baseAddress!, Self.shape), mode: .train).elements)) }
        var largest = 0.0
        for (i, value) in y.enumerated() {
            let (mean, variance) = exact[i % 3]
            largest = max(largest, abs(Double(value) - (Double(x[i]) - mean) / (variance + 1e-5).squareRoot()))
        }
        // Float rounding of a value near 50 is 4e-6, which normalising by 0.5 doubles.
        #expect(largest < 5e-5)
    }

    @Test("running statistics from a batch split between 1, 2 and 3 threads match the exact ones", arguments: [1, 2, 3])
    func runningStatistics(_ threads: Int) {
        let network = Network<Float>(layers: [.batchNorm2d(name: "bn", channels: 3), .flatten, .linear(name: "fc", inputs: 300, outputs: 4)],
                                     inputShape: Self.shape)
        network.initialize(seed: 1)
        network.threads = threads
        var x = Self.images()
        let labels = (0..<Self.shape.n).map { Int32($0 % 4) }
        x.withUnsafeMutableBufferPointer { images in
            labels.withUnsafeBufferPointer { _ = network.lossAndGradient(Tensor(images.baseAddress!, Self.shape), labels: $0.baseAddress!) }
        }
        let m = Double(Self.shape.pixels)
        for (c, (mean, variance)) in Self.exactStatistics(x).enumerated() {
            // One step of momentum 0.1 from mean 0 and variance 1, the variance unbiased.
            let runningMean = Double(network.state["bn.running_mean"][c]), runningVariance = Double(network.state["bn.running_var"][c])
            #expect(abs(runningMean / 0.1 - mean) < 1e-5 * mean, "channel \(c)")
            #expect(abs((runningVariance - 0.9) / 0.1 - variance * m / (m - 1)) < 1e-4 * variance, "channel \(c)")
        }
    }
}
