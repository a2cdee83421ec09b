import ArgumentParser
import Foundation
import Networks
import Training

/// `landscape train`: trains a zoo model with SGD and reports train and test loss and accuracy.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a zoo model with SGD.")

    @Option(help: "mlp, cnn, resnet8 or resnetD (D = 6k + 2).")
    var model = "cnn"
    @Option(help: "Width of a ResNet's first stage.")
    var width: Int?
    @OptionGroup var data: DataOptions
    @Option(help: "Passes over the training data.")
    var epochs = 1
    @Option(help: "Samples per step.")
    var batchSize = 128
    @Option(name: .customLong("lr"), help: "Learning rate.")
    var learningRate = 0.05
    @Option(help: "SGD momentum.")
    var momentum = 0.9
    @Flag(help: "Nesterov momentum.")
    var nesterov = false
    @Option(help: "L2 weight decay, applied by the optimizer as PyTorch's SGD does.")
    var weightDecay = 5e-4
    @Option(help: "Label smoothing of the cross-entropy.")
    var labelSmoothing = 0.0
    @Option(help: "Seed of initialisation and shuffling.")
    var seed: UInt64 = 0
    @Option(help: ArgumentHelp("Write the final checkpoint here (safetensors).", valueName: "file"))
    var out: String?

    func run() throws {
        let train = try data.load(.train)
        let test = try data.load(.test)
        let architecture = try Architecture(name: model, channels: train.channels, side: train.height, classes: train.classes, width: width)
        let configuration = TrainingConfiguration(
            architecture: architecture, epochs: epochs, batchSize: batchSize, learningRate: learningRate, momentum: momentum,
            weightDecay: weightDecay, nesterov: nesterov, labelSmoothing: labelSmoothing, seed: seed)
        let trainer = try Trainer(configuration, train: train)
        say("training \(architecture.name) (\(trainer.network.parameters.count) parameters) on \(train.name), \(train.count) images, for \(epochs) epoch(s)")
        var testResult = Evaluation(loss: 0, correct: 0, count: 0)
        for epoch in 0..<epochs {
            var progress = ProgressLine()
            let batches = trainer.loader.batchCount
            let result = try trainer.trainEpoch(epoch) { index, running in
                let rate = Double(running.count) / max(progress.elapsed, 1e-9)
                progress.update(index + 1, of: batches, String(format: "epoch %d loss %.4f acc %.2f%% %.0f samples/s", epoch + 1, running.loss, running.accuracy, rate))
            }
            let seconds = progress.elapsed
            testResult = trainer.network.evaluate(test)
            say(String(format: "epoch %d: train loss %.4f acc %.2f%%, test loss %.4f acc %.2f%%, %.1f s",
                         epoch + 1, result.loss, result.accuracy, testResult.loss, testResult.accuracy, seconds))
        }
        if let out {
            let metadata = [
                "dataset": train.name, "preprocessing": "(p / 255 - 0.2860) / 0.3530",
                "optimizer": #"{"name":"sgd","lr":\#(learningRate),"momentum":\#(momentum),"nesterov":\#(nesterov),"weight_decay":\#(weightDecay)}"#,
                "epoch": "\(epochs)", "step": "\(trainer.step)", "seed": "\(seed)",
                "test_loss": "\(testResult.loss)", "test_accuracy": "\(testResult.accuracy)",
            ]
            let url = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Checkpoint.write(trainer.network, metadata: metadata, to: url)
            say("wrote \(out)")
        }
        say(String(format: "test loss %.4f, test accuracy %.2f%%", testResult.loss, testResult.accuracy))
    }
}
