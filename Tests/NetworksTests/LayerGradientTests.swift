import LandscapeCore
import Networks
import Testing

/// Every layer's input and parameter gradients against central finite differences in Double.
struct LayerGradientTests {
    static let tolerance = 1e-6

    /// Layers with the input shape they are checked on.
    static let cases: [(String, [LayerSpec], Shape)] = [
        ("linear", [.linear(name: "fc", inputs: 6, outputs: 4)], Shape(n: 1, features: 6)),
        ("conv3x3 pad 1", [.conv2d(name: "c", inputs: 3, outputs: 4, kernel: 3, stride: 1, padding: 1, bias: true)], Shape(n: 1, height: 5, width: 5, channels: 3)),
        ("conv3x3 stride 2 no bias", [.conv2d(name: "c", inputs: 2, outputs: 3, kernel: 3, stride: 2, padding: 1, bias: false)], Shape(n: 1, height: 6, width: 5, channels: 2)),
        ("conv3x3 pad 2 stride 3", [.conv2d(name: "c", inputs: 2, outputs: 2, kernel: 3, stride: 3, padding: 2, bias: true)], Shape(n: 1, height: 7, width: 8, channels: 2)),
        ("conv3x3 pad 1, image narrower than the kernel", [.conv2d(name: "c", inputs: 2, outputs: 3, kernel: 3, stride: 1, padding: 1, bias: false)], Shape(n: 1, height: 3, width: 2, channels: 2)),
        ("conv1x1 stride 2", [.conv2d(name: "c", inputs: 3, outputs: 2, kernel: 1, stride: 2, padding: 0, bias: false)], Shape(n: 1, height: 5, width: 5, channels: 3)),
        ("conv1x1 pointwise", [.conv2d(name: "c", inputs: 3, outputs: 2, kernel: 1, stride: 1, padding: 0, bias: true)], Shape(n: 1, height: 3, width: 3, channels: 3)),
        ("conv5x5 pad 2", [.conv2d(name: "c", inputs: 1, outputs: 2, kernel: 5, stride: 1, padding: 2, bias: false)], Shape(n: 1, height: 6, width: 7, channels: 1)),
        ("conv5x5 pad 0", [.conv2d(name: "c", inputs: 1, outputs: 2, kernel: 5, stride: 1, padding: 0, bias: true)], Shape(n: 1, height: 7, width: 6, channels: 1)),
        ("batchnorm", [.batchNorm2d(name: "bn", channels: 3)], Shape(n: 1, height: 3, width: 2, channels: 3)),
        ("relu", [.relu], Shape(n: 1, height: 3, width: 3, channels: 2)),
        ("maxpool 2", [.maxPool2d(size: 2)], Shape(n: 1, height: 4, width: 5, channels: 3)),
        ("maxpool 3", [.maxPool2d(size: 3)], Shape(n: 1, height: 7, width: 6, channels: 3)),
        ("batchnorm, relu and maxpool 2, pooled in batch-norm's pass", [.batchNorm2d(name: "bn", channels: 3), .relu, .maxPool2d(size: 2)], Shape(n: 1, height: 4, width: 6, channels: 3)),
        ("batchnorm and maxpool 2 on an odd height, pooled apart", [.batchNorm2d(name: "bn", channels: 3), .maxPool2d(size: 2)], Shape(n: 1, height: 5, width: 4, channels: 3)),
        ("global average pool", [.globalAveragePool], Shape(n: 1, height: 3, width: 2, channels: 4)),
        ("flatten", [.flatten, .linear(name: "fc", inputs: 24, outputs: 3)], Shape(n: 1, height: 2, width: 4, channels: 3)),
        ("basic block, identity shortcut", [.basicBlock(name: "b", inputs: 3, outputs: 3, stride: 1)], Shape(n: 1, height: 4, width: 4, channels: 3)),
        ("basic block, projection shortcut", [.basicBlock(name: "b", inputs: 2, outputs: 4, stride: 2)], Shape(n: 1, height: 5, width: 5, channels: 2)),
    ]

    static func network(_ layers: [LayerSpec], _ shape: Shape, computesInputGradient: Bool = true) -> Network<Double> {
        let network = Network<Double>(layers: layers, inputShape: shape, computesInputGradient: computesInputGradient)
        network.initialize(seed: 3)
        // Batch-norm starts as the identity affine map; random scales and shifts exercise both terms.
        var generator = RandomGenerator(seed: 5)
        for entry in network.parameters.layout.entries where entry.role == .normScale || entry.role == .normShift {
            for i in entry.range { network.parameters.pointer[i] = generator.uniform(0.5, 1.5) }
        }
        for entry in network.state.layout.entries {
            for i in entry.range { network.state.pointer[i] = entry.role == .runningMean ? generator.normal() : generator.uniform(0.5, 2) }
        }
        return network
    }

    @Test("input and parameter gradients, training mode", arguments: cases.indices)
    func trainingMode(_ index: Int) {
        let (name, layers, shape) = Self.cases[index]
        let check = GradientCheck(Self.network(layers, shape), batch: 3)
        let inputError = check.inputError()
        #expect(inputError < Self.tolerance, "\(name): input gradient error \(inputError)")
        for (tensor, error) in check.parameterErrors() {
            #expect(error < Self.tolerance, "\(name): \(tensor) gradient error \(error)")
        }
    }

    /// A network's first convolution keeps its columns for backward, transposed when it has few
    /// input channels: another unrolling than the other layers'.
    @Test("parameter gradients of a convolution as a network's first layer",
          arguments: cases.indices.filter { cases[$0].0.hasPrefix("conv") })
    func firstLayer(_ index: Int) {
        let (name, layers, shape) = Self.cases[index]
        let check = GradientCheck(Self.network(layers, shape, computesInputGradient: false), batch: 3)
        for (tensor, error) in check.parameterErrors() {
            #expect(error < Self.tolerance, "\(name): \(tensor) gradient error \(error)")
        }
    }

    @Test("input and parameter gradients, evaluation mode (batch-norm on running statistics)",
          arguments: cases.indices.filter { cases[$0].0.contains("batchnorm") || cases[$0].0.contains("block") })
    func evaluationMode(_ index: Int) {
        let (name, layers, shape) = Self.cases[index]
        let check = GradientCheck(Self.network(layers, shape), batch: 2, mode: .evaluation)
        #expect(check.inputError() < Self.tolerance, "\(name)")
        for (tensor, error) in check.parameterErrors() {
            #expect(error < Self.tolerance, "\(name): \(tensor) gradient error \(error)")
        }
    }

    @Test("softmax cross-entropy with label smoothing", arguments: [0.0, 0.1, 0.5])
    func crossEntropy(smoothing: Double) {
        let (n, classes) = (4, 5)
        var generator = RandomGenerator(seed: 2)
        let logits = Buffer<Double>(count: n * classes)
        for i in 0..<n * classes { logits.pointer[i] = 3 * generator.normal() }
        let labels: [Int32] = [0, 4, 2, 2]
        let loss = SoftmaxCrossEntropy<Double>()
        let shape = Shape(n: n, features: classes)
        func value() -> Double { labels.withUnsafeBufferPointer { loss.forward(Tensor(logits, shape), labels: $0.baseAddress!, smoothing: smoothing).loss } }
        _ = value()
        let analytic = Array(loss.backward().elements)
        let numeric = (0..<n * classes).map { i -> Double in
            let saved = logits.pointer[i]
            logits.pointer[i] = saved + GradientCheck.step
            let plus = value()
            logits.pointer[i] = saved - GradientCheck.step
            let minus = value()
            logits.pointer[i] = saved
            return (plus - minus) / (2 * GradientCheck.step)
        }
        #expect(GradientCheck.relativeError(analytic, numeric) < Self.tolerance)
        // A pass without backward leaves the gradient out, and gives the same loss bit for bit.
        let lossOnly = labels.withUnsafeBufferPointer {
            loss.forward(Tensor(logits, shape), labels: $0.baseAddress!, smoothing: smoothing, gradient: false)
        }
        #expect(lossOnly.loss == value())
    }

    @Test("cross-entropy value: uniform logits give log K, and accuracy counts the first maximum")
    func crossEntropyValue() {
        let logits = Buffer<Float>(count: 6)
        logits.pointer[3] = 1 // second row: class 0 wins
        let loss = SoftmaxCrossEntropy<Float>()
        let labels: [Int32] = [1, 0]
        let result = labels.withUnsafeBufferPointer { loss.forward(Tensor(logits, Shape(n: 2, features: 3)), labels: $0.baseAddress!) }
        let second = -Double.log(Double.exp(1) / (Double.exp(1) + 2))
        #expect(abs(result.loss - (Double.log(3) + second) / 2) < 1e-6)
        #expect(result.correct == 1) // first row's tie goes to class 0, not the label 1
    }
}
