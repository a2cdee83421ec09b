import LandscapeCore
import Networks
import Testing
import Training

/// A training run is a function of its seeds: two runs with the same seed end with the same bits.
struct DeterminismTests {
    /// The zoo; the convolutional models on 12x12 images keep a debug build fast.
    static let models: [Architecture] = [.mlp, Architecture(family: .cnn, side: 12), Architecture(family: .resnet, side: 12)]

    /// What a run leaves behind, as bit patterns.
    struct Outcome: Equatable {
        var parameters: [UInt32]
        var state: [UInt32]
        var batchesTracked: Int
        var losses: [UInt64]
    }

    /// 96 images of standard normal pixels with uniformly random labels, from a fixed seed: the
    /// same data for every run.
    static func dataset(for architecture: Architecture) -> Dataset {
        var generator = RandomGenerator(seed: 2024, stream: 7)
        let count = 96
        let size = architecture.side * architecture.side * architecture.channels
        let images = (0..<count * size).map { _ in Float(generator.normal()) }
        let labels = (0..<count).map { _ in Int32(generator.integer(below: architecture.classes)) }
        return Dataset(name: "synthetic", images: images, labels: labels,
                       height: architecture.side, width: architecture.side, channels: architecture.channels,
                       classes: architecture.classes)
    }

    /// Ten SGD steps (batches of 32, so three epochs and a bit) from `initialize(seed:)`, shuffled by
    /// `shuffleSeed`.
    static func run(_ architecture: Architecture, data: Dataset, seed: UInt64, shuffleSeed: UInt64? = nil) -> Outcome {
        let network = Network<Float>(architecture)
        network.initialize(seed: seed)
        let loader = BatchLoader(data, batchSize: 32, seed: shuffleSeed ?? seed)
        let sgd = SGD(parameterCount: network.parameters.count, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
        var losses: [UInt64] = []
        for step in 0..<10 {
            let (epoch, index) = step.quotientAndRemainder(dividingBy: loader.batchCount)
            if index == 0 { loader.startEpoch(epoch) }
            let batch = loader.batch(index)
            let evaluation = network.lossAndGradient(batch.images, labels: batch.labels)
            losses.append(evaluation.loss.bitPattern)
            sgd.step(parameters: network.parameters, gradients: network.gradients)
        }
        return Outcome(parameters: network.parameters.elements.map(\.bitPattern),
                       state: network.state.elements.map(\.bitPattern),
                       batchesTracked: network.batchesTracked,
                       losses: losses)
    }

    @Test("two runs with the same seeds end bit-identical; another seed does not", arguments: models)
    func reproducible(_ architecture: Architecture) {
        let data = Self.dataset(for: architecture)
        let first = Self.run(architecture, data: data, seed: 17)
        let second = Self.run(architecture, data: data, seed: 17)
        #expect(first.parameters == second.parameters)
        #expect(first.state == second.state)
        #expect(first.losses == second.losses)
        #expect(first.batchesTracked == second.batchesTracked)
        #expect(first.losses.allSatisfy { Double(bitPattern: $0).isFinite })
        #expect(first.parameters.allSatisfy { Float(bitPattern: $0).isFinite })

        // Training happened: the weights moved away from their initial values.
        let initial = Network<Float>(architecture)
        initial.initialize(seed: 17)
        #expect(first.parameters != initial.parameters.elements.map(\.bitPattern))
        if !first.state.isEmpty {
            #expect(first.batchesTracked == 10)
            #expect(first.state != initial.state.elements.map(\.bitPattern))
        }

        let other = Self.run(architecture, data: data, seed: 18)
        #expect(other.parameters != first.parameters)
        #expect(other.losses != first.losses)
        if !first.state.isEmpty { #expect(other.state != first.state) }
    }

    /// The loader does not depend on the model, so one model with and one without batch-norm suffice.
    @Test("the shuffling seed alone changes the run", arguments: models.prefix(2))
    func shuffleSeedMatters(_ architecture: Architecture) {
        let data = Self.dataset(for: architecture)
        let first = Self.run(architecture, data: data, seed: 17)
        let reshuffled = Self.run(architecture, data: data, seed: 17, shuffleSeed: 18)
        // The same initial weights see the batches in another order.
        #expect(reshuffled.parameters != first.parameters)
        #expect(reshuffled.losses != first.losses)
    }
}
