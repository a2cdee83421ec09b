import Foundation
import LandscapeCore
import Networks
import Testing
import Training

/// SAM and ASAM against PyTorch: `Tests/Fixtures/make_sam_fixtures.py` ran 5 steps of SAM
/// (rho 0.05) and ASAM (rho 0.5, `adaptive=True`, i.e. eta 0) over SGD (lr 0.05, momentum 0.9,
/// weight decay 5e-4) on the cnn with batch-norm, in the style of the widely used PyTorch SAM, in
/// float64. Ours, in float32, match within 1e-4 relative (`max |ours - theirs| / max |theirs|` per tensor).
struct SAMParityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sam")

    static func relativeError(_ ours: [Float], _ theirs: [Float]) -> Double {
        let difference = zip(ours, theirs).map { Double(abs($0 - $1)) }.max() ?? 0
        return difference / Double(theirs.map(abs).max() ?? 1)
    }

    enum Run: String, CaseIterable { case sgd, sam, asam }

    @Test("five steps: losses, loss at w + e, gradient norms and final weights and statistics", arguments: Run.allCases)
    func parity(_ run: Run) throws {
        let initial = try SafeTensorsFile(contentsOf: Self.fixtures.appendingPathComponent("initial.safetensors"))
        let batches = try SafeTensorsFile(contentsOf: Self.fixtures.appendingPathComponent("batches.safetensors"))
        let expected = try SafeTensorsFile(contentsOf: Self.fixtures.appendingPathComponent("\(run.rawValue).safetensors"))
        let network = Network<Float>(try Architecture(json: try #require(initial.metadata["architecture"]), source: "initial"))
        try network.load(initial)
        let shape = try #require(batches.entry("inputs")).shape // [steps, batch, 1, 28, 28]: one channel, so NCHW is NHWC
        let (steps, batch) = (shape[0], shape[1])
        let inputs = try batches.floats("inputs")
        let labels = try batches.integers("labels").map { Int32($0) }

        let sgd = SGD(parameterCount: network.parameters.count, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
        let sam = SAM(base: sgd, parameterCount: network.parameters.count, rho: run == .asam ? 0.5 : 0.05, adaptive: run == .asam, eta: 0)
        var losses: [Float] = [], perturbedLosses: [Float] = [], norms: [Float] = []
        let image = Buffer<Float>(count: batch * 784)
        for step in 0..<steps {
            image.pointer.update(from: Array(inputs[(step * batch * 784)..<((step + 1) * batch * 784)]), count: batch * 784)
            let x = Tensor(image, Shape(n: batch, height: 28, width: 28, channels: 1))
            let y = Array(labels[(step * batch)..<((step + 1) * batch)])
            y.withUnsafeBufferPointer { y in
                if run == .sgd {
                    losses.append(Float(network.lossAndGradient(x, labels: y.baseAddress!).loss))
                    norms.append(Float(network.gradients.elements.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()))
                    sgd.step(parameters: network.parameters, gradients: network.gradients)
                } else {
                    losses.append(Float(network.lossAndGradient(x, labels: y.baseAddress!).loss))
                    norms.append(Float(sam.firstStep(parameters: network.parameters, gradients: network.gradients)))
                    let perturbed = network.lossAndGradient(x, labels: y.baseAddress!, mode: SAM.Pass.perturbed.mode)
                    perturbedLosses.append(Float(perturbed.loss))
                    sam.secondStep(parameters: network.parameters, gradients: network.gradients)
                }
            }
        }
        #expect(Self.relativeError(losses, try expected.floats("loss")) < 1e-4)
        #expect(Self.relativeError(norms, try expected.floats("grad_norm")) < 1e-4)
        if run != .sgd {
            #expect(Self.relativeError(perturbedLosses, try expected.floats("perturbed_loss")) < 1e-4)
        }
        for vector in [network.parameters, network.state] {
            for entry in vector.layout.entries {
                let error = Self.relativeError(Array(vector.view(entry)), try expected.floats("final.\(entry.name)"))
                #expect(error < 1e-4, "\(run) \(entry.name): relative error \(error)")
            }
        }
    }
}
