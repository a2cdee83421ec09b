import LandscapeCore
import Networks
import Testing
import Training

/// What `Trainer.trainStep` does with a batch, compared across configurations that must agree (or
/// must not): gradient accumulation, m-sharpness, the placement of weight decay, clipping, rho = 0,
/// the statistics a step returns, and the validation of every option.
struct TrainerTests {
    /// The mlp on 6x6 images: no batch-norm, so how a batch is split changes nothing but rounding.
    static let mlp = Architecture(family: .mlp, side: 6, hidden: 32)
    /// The cnn on 8x8 images, with batch-norm.
    static let cnn = Architecture(family: .cnn, side: 8)
    /// 39 samples in batches of 16: two full batches and a last one of 7, which splits unevenly.
    static let images6 = SyntheticData.randomImages(count: 39, side: 6, channels: 1, classes: 10, seed: 11)
    static let images8 = SyntheticData.randomImages(count: 48, side: 8, channels: 1, classes: 10, seed: 12)
    static let batchSize = 16

    static func data(for architecture: Architecture) -> Dataset {
        architecture.side == 6 ? images6 : images8
    }

    static func configuration(_ architecture: Architecture = mlp, method: TrainingConfiguration.Method = .sgd,
                              learningRate: Double = 0.1, momentum: Double = 0.9, weightDecay: Double = 5e-4,
                              rho: Double = 0.05) -> TrainingConfiguration {
        TrainingConfiguration(architecture: architecture, data: "random", epochs: 1, batchSize: batchSize,
                              learningRate: learningRate, method: method, momentum: momentum, weightDecay: weightDecay,
                              rho: rho, seed: 7)
    }

    /// A batch copied out of a data set, owning its memory.
    struct Batch {
        let images: Buffer<Float>
        let labels: Buffer<Int32>
        let shape: Shape

        init(_ data: Dataset, _ range: Range<Int>) {
            shape = Shape(n: range.count, height: data.height, width: data.width, channels: data.channels)
            images = Buffer(count: shape.count)
            labels = Buffer(count: range.count)
            for (i, sample) in range.enumerated() {
                for j in 0..<data.sampleSize { images.pointer[i * data.sampleSize + j] = data.images[sample * data.sampleSize + j] }
                labels.pointer[i] = data.labels[sample]
            }
        }

        var x: Tensor<Float> { Tensor(images, shape) }
        var y: UnsafePointer<Int32> { UnsafePointer(labels.pointer) }

        /// Samples `range` of the batch, without copying.
        func slice(_ range: Range<Int>) -> (x: Tensor<Float>, y: UnsafePointer<Int32>) {
            (Tensor(images.pointer + range.lowerBound * shape.sampleSize, shape.with(n: range.count)), y + range.lowerBound)
        }
    }

    /// The data set in order, in batches of `size` (the last one may be smaller).
    static func batches(_ data: Dataset, size: Int = batchSize) -> [Batch] {
        stride(from: 0, to: data.count, by: size).map { Batch(data, $0..<min($0 + size, data.count)) }
    }

    typealias StepResult = (evaluation: Evaluation, gradientNorm: Double, perturbedLoss: Double?)

    /// A trainer after `steps` steps on the first batches of its data, in order, and what they returned.
    static func train(_ configuration: TrainingConfiguration, steps: Int = 3) throws -> (Trainer, [StepResult]) {
        let data = Self.data(for: configuration.architecture)
        let trainer = try Trainer(configuration, train: data)
        var results: [StepResult] = []
        for batch in batches(data).prefix(steps) {
            results.append(try trainer.trainStep(batch.x, labels: batch.y))
        }
        return (trainer, results)
    }

    static func parameters(_ trainer: Trainer) -> [Float] { Array(trainer.network.parameters.elements) }

    /// `max|a - b| / max|b|`.
    static func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        var difference = 0.0, scale = 0.0
        for (x, y) in zip(a, b) {
            difference = max(difference, abs(Double(x) - Double(y)))
            scale = max(scale, abs(Double(y)))
        }
        return difference / scale
    }

    static func relativeDifference(_ a: Double, _ b: Double) -> Double { abs(a - b) / abs(b) }

    static func norm<C: Collection>(_ values: C) -> Double where C.Element == Float {
        values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    /// The initial weights of a configuration's network.
    static func initialParameters(_ configuration: TrainingConfiguration) -> [Float] {
        let network = Network<Float>(configuration.architecture)
        network.initialize(seed: configuration.seed)
        return Array(network.parameters.elements)
    }

    // MARK: - Gradient accumulation

    @Test("accumulating micro-batch gradients gives the parameters of the whole batch",
          arguments: [TrainingConfiguration.Method.sgd, .sam, .asam], [2, 4])
    func accumulation(_ method: TrainingConfiguration.Method, _ accumulation: Int) throws {
        let whole = Self.configuration(method: method)
        var split = whole
        split.accumulation = accumulation
        let (reference, referenceResults) = try Self.train(whole)
        let (trainer, results) = try Self.train(split)
        let expected = Self.parameters(reference)
        // The steps moved the weights far more than the tolerance.
        #expect(Self.relativeDifference(expected, Self.initialParameters(whole)) > 1e-3)
        #expect(Self.relativeDifference(Self.parameters(trainer), expected) < 1e-6)
        for (ours, theirs) in zip(results, referenceResults) {
            #expect(Self.relativeDifference(ours.evaluation.loss, theirs.evaluation.loss) < 1e-6)
            #expect(ours.evaluation.correct == theirs.evaluation.correct && ours.evaluation.count == theirs.evaluation.count)
            #expect(Self.relativeDifference(ours.gradientNorm, theirs.gradientNorm) < 1e-5)
            if method != .sgd {
                let (a, b) = (try #require(ours.perturbedLoss), try #require(theirs.perturbedLoss))
                #expect(Self.relativeDifference(a, b) < 1e-6)
            }
        }
    }

    // MARK: - m-sharpness

    @Test("m-sharpness with m equal to the batch size is SAM without m", arguments: [TrainingConfiguration.Method.sam, .asam])
    func mWholeBatch(_ method: TrainingConfiguration.Method) throws {
        let plain = Self.configuration(method: method)
        var whole = plain
        whole.m = Self.batchSize
        let (reference, _) = try Self.train(plain)
        let (trainer, _) = try Self.train(whole)
        #expect(Self.relativeDifference(Self.parameters(trainer), Self.parameters(reference)) < 1e-6)
    }

    @Test("m-sharpness with m = batch / 4 differs from plain SAM")
    func mQuarterDiffers() throws {
        let plain = Self.configuration(method: .sam)
        var quarter = plain
        quarter.m = Self.batchSize / 4
        let (reference, _) = try Self.train(plain)
        let (trainer, _) = try Self.train(quarter)
        #expect(Self.relativeDifference(Self.parameters(trainer), Self.parameters(reference)) > 1e-3)
    }

    /// The rule of Foret et al. 2021, sec. 4.1, written out with a network, SAM and SGD of our own:
    /// per sub-batch the gradient at `w`, the perturbation, the gradient at `w + e`, back to `w`; the
    /// base step takes the size-weighted mean of the perturbed gradients.
    @Test("m-sharpness equals the sub-batch rule written out by hand", arguments: [mlp, cnn])
    func mReference(_ architecture: Architecture) throws {
        var configuration = Self.configuration(architecture, method: .sam, rho: 0.2)
        configuration.m = 4
        let (trainer, results) = try Self.train(configuration)

        let network = Network<Float>(architecture)
        network.initialize(seed: configuration.seed)
        let count = network.parameters.count
        let sgd = SGD(parameterCount: count, learningRate: configuration.learningRate, momentum: configuration.momentum,
                      weightDecay: configuration.weightDecay)
        let sam = SAM(base: sgd, parameterCount: count, rho: configuration.rho)
        let mean = ParameterVector<Float>(layout: network.parameters.layout)
        for (batch, result) in zip(Self.batches(Self.data(for: architecture)).prefix(3), results) {
            let n = batch.shape.n
            mean.elements.update(repeating: 0)
            var original = Evaluation(loss: 0, correct: 0, count: 0), perturbed = original
            var norms: [Double] = []
            for start in stride(from: 0, to: n, by: 4) {
                let chunk = batch.slice(start..<min(start + 4, n))
                original = original.merged(with: network.lossAndGradient(chunk.x, labels: chunk.y, mode: SAM.Pass.original.mode))
                norms.append(sam.firstStep(parameters: network.parameters, gradients: network.gradients))
                perturbed = perturbed.merged(with: network.lossAndGradient(chunk.x, labels: chunk.y, mode: SAM.Pass.perturbed.mode))
                sam.restore(parameters: network.parameters)
                let weight = Float(chunk.x.shape.n) / Float(n)
                for i in 0..<count { mean.pointer[i] += weight * network.gradients.pointer[i] }
            }
            sgd.step(parameters: network.parameters, gradients: mean)

            #expect(Self.relativeDifference(result.evaluation.loss, original.loss) < 1e-6)
            #expect(result.evaluation.correct == original.correct)
            #expect(Self.relativeDifference(try #require(result.perturbedLoss), perturbed.loss) < 1e-6)
            let meanNorm = norms.reduce(0, +) / Double(norms.count)
            #expect(Self.relativeDifference(result.gradientNorm, meanNorm) < 1e-6)
        }
        #expect(Self.relativeDifference(Self.parameters(trainer), Array(network.parameters.elements)) < 1e-6)
        if !network.state.elements.isEmpty {
            #expect(Self.relativeDifference(Array(trainer.network.state.elements), Array(network.state.elements)) < 1e-6)
        }
        #expect(trainer.network.batchesTracked == network.batchesTracked)
        #expect(trainer.step == 3)
    }

    // MARK: - Weight decay

    @Test("for plain steps, weight decay in the loss and in the optimizer agree", arguments: [1, 2])
    func decayPlacementSGD(_ accumulation: Int) throws {
        var inOptimizer = Self.configuration(weightDecay: 0.05)
        inOptimizer.accumulation = accumulation
        var inLoss = inOptimizer
        inLoss.weightDecayIn = .loss
        var none = inOptimizer
        none.weightDecay = 0
        let (a, _) = try Self.train(inOptimizer)
        let (b, _) = try Self.train(inLoss)
        let (c, _) = try Self.train(none)
        #expect(Self.relativeDifference(Self.parameters(b), Self.parameters(a)) < 1e-6)
        // The decay is large enough to show.
        #expect(Self.relativeDifference(Self.parameters(c), Self.parameters(a)) > 1e-3)
    }

    @Test("for SAM, weight decay in the loss changes the perturbation, so the placements differ")
    func decayPlacementSAM() throws {
        let inOptimizer = Self.configuration(method: .sam, weightDecay: 0.05)
        var inLoss = inOptimizer
        inLoss.weightDecayIn = .loss
        let (a, _) = try Self.train(inOptimizer)
        let (b, _) = try Self.train(inLoss)
        #expect(Self.relativeDifference(Self.parameters(b), Self.parameters(a)) > 1e-3)
    }

    // MARK: - Clipping

    /// The gradient's norm is about 0.5, far above both bounds. The step's length is measured on
    /// Float weights near 0.1, whose rounding leaves about 2e-9 in it: 2e-7 of a step of 1e-2, but
    /// 2e-6 of one of 1e-3, hence the looser tolerance there.
    @Test("clipping to a tiny norm makes a plain step of that length along -g",
          arguments: [(1e-2, 1e-6), (1e-3, 1e-5)])
    func clipping(_ bound: Double, _ tolerance: Double) throws {
        var configuration = Self.configuration(learningRate: 1, momentum: 0, weightDecay: 0)
        configuration.clipNorm = bound
        let trainer = try Trainer(configuration, train: Self.images6)
        let batch = Self.batches(Self.images6)[0]
        let before = Self.parameters(trainer)
        let result = try trainer.trainStep(batch.x, labels: batch.y)
        let change = zip(Self.parameters(trainer), before).map { Double($0) - Double($1) }
        let length = change.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(Self.relativeDifference(length, bound) < tolerance, "step length \(length)")

        // The unclipped gradient, its norm as returned, and the direction of the step.
        let network = Network<Float>(configuration.architecture)
        network.initialize(seed: configuration.seed)
        network.lossAndGradient(batch.x, labels: batch.y)
        let gradient = Array(network.gradients.elements)
        let gradientNorm = Self.norm(gradient)
        #expect(gradientNorm > 20 * bound)
        #expect(Self.relativeDifference(result.gradientNorm, gradientNorm) < 1e-6)
        let cosine = -zip(change, gradient).reduce(0) { $0 + $1.0 * Double($1.1) } / (length * gradientNorm)
        #expect(cosine > 1 - 1e-6)

        // A bound the gradient does not reach changes nothing.
        var loose = Self.configuration()
        loose.clipNorm = 1e6
        let (clipped, _) = try Self.train(loose)
        let (unclipped, _) = try Self.train(Self.configuration())
        #expect(Self.parameters(clipped) == Self.parameters(unclipped))
    }

    // MARK: - rho = 0

    @Test("SAM with rho = 0 is bit for bit the base optimizer, batch-norm statistics included")
    func rhoZero() throws {
        let (sam, samResults) = try Self.train(Self.configuration(Self.cnn, method: .sam, rho: 0))
        let (sgd, sgdResults) = try Self.train(Self.configuration(Self.cnn))
        #expect(Self.parameters(sam).map(\.bitPattern) == Self.parameters(sgd).map(\.bitPattern))
        #expect(sam.network.state.elements.map(\.bitPattern) == sgd.network.state.elements.map(\.bitPattern))
        #expect(sam.network.batchesTracked == sgd.network.batchesTracked)
        #expect(sam.network.batchesTracked == 3)
        #expect(samResults.map(\.evaluation.loss) == sgdResults.map(\.evaluation.loss))
        // At rho = 0 the "perturbed" loss is the loss at w.
        #expect(samResults.map(\.perturbedLoss) == sgdResults.map(\.evaluation.loss))
        #expect(sgdResults.allSatisfy { $0.perturbedLoss == nil })
    }

    // MARK: - What a step returns

    @Test("a step returns the loss and the gradient norm at w, and for SAM the loss at w + e",
          arguments: [TrainingConfiguration.Method.sgd, .sam, .asam])
    func returnedStatistics(_ method: TrainingConfiguration.Method) throws {
        let configuration = Self.configuration(Self.cnn, method: method, rho: method == .asam ? 0.5 : 0.05)
        let trainer = try Trainer(configuration, train: Self.images8)
        let batch = Self.batches(Self.images8)[0]
        let result = try trainer.trainStep(batch.x, labels: batch.y)

        let network = Network<Float>(configuration.architecture)
        network.initialize(seed: configuration.seed)
        let original = network.lossAndGradient(batch.x, labels: batch.y)
        #expect(Self.relativeDifference(result.evaluation.loss, original.loss) < 1e-6)
        #expect(result.evaluation.correct == original.correct && result.evaluation.count == 16)
        let (w, g) = (Array(network.parameters.elements), Array(network.gradients.elements))
        let expectedNorm: Double
        if method == .asam {
            expectedNorm = zip(w, g).reduce(0.0) { sum, pair in
                let scaled = (abs(Double(pair.0)) + configuration.eta) * Double(pair.1)
                return sum + scaled * scaled
            }.squareRoot()
        } else {
            expectedNorm = Self.norm(g)
        }
        #expect(Self.relativeDifference(result.gradientNorm, expectedNorm) < 1e-6)
        guard method != .sgd else {
            #expect(result.perturbedLoss == nil)
            return
        }
        let sam = SAM(base: SGD(parameterCount: w.count, learningRate: 0.1), parameterCount: w.count, rho: configuration.rho,
                      adaptive: method == .asam, eta: configuration.eta)
        sam.firstStep(parameters: network.parameters, gradients: network.gradients)
        let perturbed = network.loss(batch.x, labels: batch.y, mode: SAM.Pass.perturbed.mode)
        #expect(Self.relativeDifference(try #require(result.perturbedLoss), perturbed.loss) < 1e-6)
    }

    @Test("on a fresh network the loss at w + e exceeds the loss at w, batch after batch", arguments: [mlp, cnn])
    func perturbedLossIsHigher(_ architecture: Architecture) throws {
        let configuration = Self.configuration(architecture, method: .sam)
        for batch in Self.batches(Self.data(for: architecture)) {
            let trainer = try Trainer(configuration, train: Self.data(for: architecture))
            let result = try trainer.trainStep(batch.x, labels: batch.y)
            let perturbed = try #require(result.perturbedLoss)
            #expect(perturbed > result.evaluation.loss, "loss \(result.evaluation.loss) at w, \(perturbed) at w + e")
        }
    }

    // MARK: - Validation

    /// A configuration that `validate()` must refuse, and the option its message must name.
    struct Invalid: Sendable, CustomTestStringConvertible {
        let name: String
        let option: String
        let configuration: TrainingConfiguration
        var testDescription: String { name }

        init(_ name: String, _ option: String, _ change: (inout TrainingConfiguration) -> Void) {
            var configuration = TrainerTests.configuration(method: .sam)
            change(&configuration)
            self.name = name
            self.option = option
            self.configuration = configuration
        }
    }

    static let invalid: [Invalid] = [
        Invalid("epochs 0", "--epochs") { $0.epochs = 0 },
        Invalid("batch size 1", "--batch-size") { $0.batchSize = 1 },
        Invalid("lr 0", "--lr") { $0.learningRate = 0 },
        Invalid("lr negative", "--lr") { $0.learningRate = -0.1 },
        Invalid("lr infinite", "--lr") { $0.learningRate = .infinity },
        Invalid("lr not a number", "--lr") { $0.learningRate = .nan },
        Invalid("momentum 1", "--momentum") { $0.momentum = 1 },
        Invalid("momentum negative", "--momentum") { $0.momentum = -0.1 },
        Invalid("m without SAM", "--m") { $0.method = .sgd; $0.m = 4 },
        Invalid("m above the batch size", "--m") { $0.m = 17 },
        Invalid("m of 1", "--m") { $0.m = 1 },
        Invalid("m with accumulation", "--accumulation") { $0.m = 4; $0.accumulation = 2 },
        Invalid("accumulation above half the batch", "--accumulation") { $0.accumulation = 9 },
        Invalid("accumulation 0", "--accumulation") { $0.accumulation = 0 },
        Invalid("clip norm 0", "--clip-norm") { $0.clipNorm = 0 },
        Invalid("clip norm negative", "--clip-norm") { $0.clipNorm = -1 },
        Invalid("unknown schedule", "--schedule") { $0.schedule = "linear" },
        Invalid("malformed step schedule", "--schedule") { $0.schedule = "step:0:0.1" },
        Invalid("Nesterov with AdamW", "--nesterov") { $0.optimizer = .adamw; $0.nesterov = true },
        Invalid("Nesterov without momentum", "--nesterov") { $0.momentum = 0; $0.nesterov = true },
    ]

    @Test("every invalid setting is refused with an error naming the option", arguments: invalid)
    func invalidSetting(_ invalid: Invalid) {
        do {
            try invalid.configuration.validate()
            Issue.record("\(invalid.name) was accepted")
        } catch {
            #expect(error.description.contains(invalid.option), "\(error.description)")
        }
        // The trainer refuses it before building anything.
        #expect(throws: TrainingError.self) { try Trainer(invalid.configuration, train: Self.images6) }
    }

    @Test("the limits themselves are valid")
    func limitsAreValid() throws {
        var configuration = Self.configuration(method: .sam)
        try configuration.validate()
        configuration.accumulation = Self.batchSize / 2
        try configuration.validate()
        configuration.accumulation = 1
        configuration.m = Self.batchSize
        try configuration.validate()
        configuration.m = 2
        configuration.batchSize = 2
        configuration.momentum = 0
        configuration.clipNorm = 1e-9
        configuration.schedule = "cosine:0.5"
        try configuration.validate()
        configuration.optimizer = .adamw
        try configuration.validate()
    }
}
