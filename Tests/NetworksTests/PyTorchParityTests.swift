import Foundation
import LandscapeCore
import Networks
import Testing
import Training

/// The zoo against PyTorch: `Tests/Fixtures/make_parity_fixtures.py` ran each reference model of
/// `shared/reference/models.py` in float64 on a batch of 8 and stored its weights, the batch, the
/// train-mode logits, loss and gradients, and, after one SGD step (lr 0.1, momentum 0.9, weight decay
/// 5e-4), the running statistics, the weights and the eval-mode logits. Our float32 network must
/// match within 1e-4 for logits and loss and 1e-3 for gradients, relative error measured per tensor
/// as `max |ours - theirs| / max |theirs|`. The train-mode pass is also split between two threads.
struct PyTorchParityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/parity")

    static func relativeError(_ ours: some Collection<Float>, _ theirs: [Float]) -> Double {
        precondition(ours.count == theirs.count, "sizes differ: \(ours.count) vs \(theirs.count)")
        let difference = zip(ours, theirs).map { Double(abs($0 - $1)) }.max() ?? 0
        return difference / Double(theirs.map(abs).max() ?? 1)
    }

    @Test("logits, loss, gradients, running statistics, SGD step and eval logits match PyTorch", arguments: ["mlp", "cnn", "resnet8"])
    func parity(_ model: String) throws {
        let weights = try SafeTensorsFile(contentsOf: Self.fixtures.appendingPathComponent("\(model).weights.safetensors"))
        let expected = try SafeTensorsFile(contentsOf: Self.fixtures.appendingPathComponent("\(model).expected.safetensors"))
        let architecture = try Architecture(json: try #require(weights.metadata["architecture"]), source: model)
        #expect(architecture.name == model)
        let network = Network<Float>(architecture)
        try network.load(weights)

        let inputEntry = try #require(expected.entry("input"))
        let (n, channels, height, width) = (inputEntry.shape[0], inputEntry.shape[1], inputEntry.shape[2], inputEntry.shape[3])
        let nchw = try expected.floats("input")
        let input = Buffer<Float>(count: nchw.count)
        for i in 0..<n { for c in 0..<channels { for y in 0..<height { for x in 0..<width {
            input.pointer[((i * height + y) * width + x) * channels + c] = nchw[((i * channels + c) * height + y) * width + x]
        } } } }
        let x = Tensor(input, Shape(n: n, height: height, width: width, channels: channels))
        let labels = try expected.integers("labels").map { Int32($0) }

        let logits = network.forward(x, mode: .train)
        #expect(Self.relativeError(logits.elements, try expected.floats("logits")) < 1e-4)
        let criterion = SoftmaxCrossEntropy<Float>()
        let smoothed = labels.withUnsafeBufferPointer { criterion.forward(logits, labels: $0.baseAddress!, smoothing: 0.1).loss }
        #expect(Self.relativeError([Float(smoothed)], try expected.floats("loss_smoothed")) < 1e-4)
        let loss = labels.withUnsafeBufferPointer { criterion.forward(logits, labels: $0.baseAddress!).loss }
        #expect(Self.relativeError([Float(loss)], try expected.floats("loss")) < 1e-4)
        network.backward(criterion.backward())
        for entry in network.gradients.layout.entries {
            let error = Self.relativeError(network.gradients.view(entry), try expected.floats("grad.\(entry.name)"))
            #expect(error < 1e-3, "\(model) gradient of \(entry.name): relative error \(error)")
        }

        // The same pass split between two threads (by samples, or a dense network's by features).
        let split = Network<Float>(architecture)
        try split.load(weights)
        split.threads = 2
        let splitLoss = labels.withUnsafeBufferPointer { split.lossAndGradient(x, labels: $0.baseAddress!).loss }
        #expect(Self.relativeError([Float(splitLoss)], try expected.floats("loss")) < 1e-4)
        for entry in split.gradients.layout.entries {
            let error = Self.relativeError(split.gradients.view(entry), try expected.floats("grad.\(entry.name)"))
            #expect(error < 1e-3, "\(model) gradient of \(entry.name) on two threads: relative error \(error)")
        }

        for entry in network.state.layout.entries {
            let error = Self.relativeError(network.state.view(entry), try expected.floats("after.\(entry.name)"))
            #expect(error < 1e-4, "\(model) \(entry.name) after the step: relative error \(error)")
        }
        let sgd = SGD(parameterCount: network.parameters.count, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
        sgd.step(parameters: network.parameters, gradients: network.gradients)
        for entry in network.parameters.layout.entries {
            let error = Self.relativeError(network.parameters.view(entry), try expected.floats("after.\(entry.name)"))
            #expect(error < 1e-4, "\(model) \(entry.name) after the SGD step: relative error \(error)")
        }
        let evalLogits = network.forward(x, mode: .evaluation)
        #expect(Self.relativeError(evalLogits.elements, try expected.floats("eval_logits")) < 1e-4)
    }
}
