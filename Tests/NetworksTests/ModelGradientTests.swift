import LandscapeCore
import Networks
import Testing

/// Whole-model gradient checks of the zoo on small inputs, in Double, through the cross-entropy loss.
struct ModelGradientTests {
    static let models: [Architecture] = [
        Architecture(family: .mlp, side: 5, hidden: 7),
        Architecture(family: .cnn, channels: 2, side: 8),
        Architecture(family: .resnet, side: 8),
        Architecture(family: .resnet, side: 6, depth: 14, width: 4),
    ]

    @Test("every parameter tensor of each zoo model", arguments: models)
    func zooModel(_ architecture: Architecture) {
        let network = Network<Double>(architecture)
        network.initialize(seed: 1)
        let check = GradientCheck(network, batch: 4, labels: [3, 1, 4, 1])
        for (tensor, error) in check.parameterErrors(samples: 12) {
            #expect(error < 1e-6, "\(architecture.name): \(tensor) gradient error \(error)")
        }
    }
}
