import ArgumentParser
import Foundation
import LandscapeCore
import Networks
import Training

/// `landscape train`: trains a zoo model with SGD, AdamW, SAM or ASAM, writing a checkpoint per
/// epoch, a log and a final checkpoint into a run directory.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a zoo model with SGD or AdamW, optionally sharpness-aware (SAM, ASAM).",
        discussion: """
            Writes OUT/run.json, OUT/epoch-NNN.safetensors after every epoch, OUT/final.safetensors, \
            OUT/optimizer.safetensors and OUT/log.jsonl. An interrupted run continues with --resume \
            and the same arguments, and ends with the same weights as an uninterrupted one.
            """)

    @Option(help: "mlp, cnn, resnet8 or resnetD (D = 6k + 2).")
    var model = "cnn"
    @Option(help: "Width of a ResNet's first stage.")
    var width: Int?
    @OptionGroup var data: DataOptions
    @Option(help: "Passes over the training data.")
    var epochs = 1
    @Option(help: "Samples per step.")
    var batchSize = 128
    @Option(name: .customLong("lr"), help: "Base learning rate.")
    var learningRate = 0.05
    @Option(help: "constant, step:EVERY:GAMMA (epochs) or cosine[:WARMUP_EPOCHS].")
    var schedule = "constant"
    @Option(help: "Base optimizer: sgd or adamw.")
    var optimizer = TrainingConfiguration.BaseOptimizer.sgd
    @Option(help: "none, sam (Foret et al. 2021) or asam (Kwon et al. 2021), wrapping the base optimizer.")
    var method = TrainingConfiguration.Method.sgd
    @Option(help: "Radius of the SAM ball (typical: 0.05 for sam, 0.5 to 2 for asam).")
    var rho = 0.05
    @Option(help: "ASAM's offset in T = |w| + eta.")
    var eta = 0.01
    @Option(help: "m-sharpness: sub-batches of m samples, each with its own perturbation.")
    var m: Int?
    @Option(help: "Micro-batches per step whose gradients are accumulated.")
    var accumulation = 1
    @Option(help: "Clip the gradient to this global L2 norm.")
    var clipNorm: Double?
    @Option(help: "SGD momentum.")
    var momentum = 0.9
    @Flag(help: "Nesterov momentum.")
    var nesterov = false
    @Option(help: "L2 weight decay (AdamW: decoupled).")
    var weightDecay = 5e-4
    @Option(help: "Where weight decay acts: optimizer (PyTorch's SGD) or loss (so it shapes SAM's perturbation).")
    var weightDecayIn = TrainingConfiguration.WeightDecayPlacement.optimizer
    @Option(help: "Label smoothing of the cross-entropy.")
    var labelSmoothing = 0.0
    @Option(help: "Seed of initialisation, shuffling and augmentation.")
    var seed: UInt64 = 0
    @Option(help: ArgumentHelp("Run directory.", valueName: "directory"))
    var out = "runs/train"
    @Flag(help: "Continue the interrupted run in --out from its last finished epoch.")
    var resume = false

    func run() throws {
        let sets = try data.load()
        let architecture = try Architecture(name: model, channels: sets.train.channels, side: sets.train.height,
                                            classes: sets.train.classes, width: width)
        let configuration = TrainingConfiguration(
            architecture: architecture, data: data.description, subset: data.subset, augmentation: data.augment,
            epochs: epochs, batchSize: batchSize, learningRate: learningRate, schedule: schedule,
            optimizer: optimizer, method: method, momentum: momentum, nesterov: nesterov,
            weightDecay: weightDecay, weightDecayIn: weightDecayIn, rho: rho, eta: eta, m: m,
            accumulation: accumulation, clipNorm: clipNorm, labelSmoothing: labelSmoothing, seed: seed)
        let trainer = try Trainer(configuration, train: sets.train, augmentation: sets.augmentation)
        let run = try TrainingRun(trainer, test: sets.test, directory: URL(fileURLWithPath: out),
                                  metadata: ["dataset": sets.train.name, "preprocessing": sets.preprocessing], resume: resume)
        let method = configuration.method == .sgd ? configuration.optimizer.rawValue : "\(configuration.method.rawValue) (rho \(rho)) over \(configuration.optimizer.rawValue)"
        if run.completedEpochs < epochs {
            say("training \(architecture.name) (\(trainer.network.parameters.count) parameters) with \(method) on \(sets.train.name), \(sets.train.count) samples, epochs \(run.completedEpochs + 1)...\(epochs) into \(out)")
        } else {
            say("the run in \(out) has finished all \(epochs) epoch(s)")
        }
        let batches = trainer.loader.batchCount
        var progress = ProgressLine()
        let start = ContinuousClock.now
        try run.run(started: { _ in progress = ProgressLine() }, progress: { epoch, index, running in
            let rate = Double(running.train.count) / max(progress.elapsed, 1e-9)
            progress.update(index + 1, of: batches, String(
                format: "epoch %d/%d loss %.4f acc %.2f%% %.0f samples/s", epoch + 1, epochs, running.train.loss, running.train.accuracy, rate))
        }, finished: { summary in
            var line = String(format: "epoch %d: train loss %.4f acc %.2f%%", summary.epoch, summary.trainLoss, summary.trainAccuracy)
            if let loss = summary.testLoss, let accuracy = summary.testAccuracy {
                line += String(format: ", test loss %.4f acc %.2f%%", loss, accuracy)
            }
            if let perturbed = summary.perturbedLoss { line += String(format: ", loss at w+e %.4f", perturbed) }
            say(line + String(format: ", |g| %.3f, lr %.4g, %.1f s", summary.gradientNorm, summary.learningRate, summary.seconds))
        })
        if let last = run.summaries.last {
            var line = String(format: "done in %.1f s: train loss %.4f acc %.2f%%", WallClock.seconds(since: start), last.trainLoss, last.trainAccuracy)
            if let loss = last.testLoss, let accuracy = last.testAccuracy {
                line += String(format: ", test loss %.4f, test accuracy %.2f%%", loss, accuracy)
            }
            say(line + "; wrote \(run.finalURL.path)")
        }
    }
}
