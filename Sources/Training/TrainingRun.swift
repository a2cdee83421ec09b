import Foundation
import LandscapeCore
import Networks

/// A training run in a directory: the configuration (`run.json`), one checkpoint per epoch
/// (`epoch-001.safetensors`, ...) for trajectories, `final.safetensors`, the optimizer state of the
/// last finished epoch (`optimizer.safetensors`), and a JSON-lines log (`log.jsonl`) with one
/// `EpochSummary` per epoch.
///
/// Every file is written atomically (temporary file, fsync, rename), the checkpoint before the
/// optimizer state, so an interrupted run resumes from its last finished epoch; because batches
/// depend only on the seed and the epoch, a resumed run ends with the same weights as an
/// uninterrupted one.
public final class TrainingRun {
    public let directory: URL
    public let trainer: Trainer
    public let test: Dataset?
    /// Metadata every checkpoint carries besides the training state (`dataset`, `preprocessing`).
    public let metadata: [String: String]
    public private(set) var completedEpochs = 0
    public private(set) var summaries: [EpochSummary] = []

    var configurationURL: URL { directory.appendingPathComponent("run.json") }
    var optimizerURL: URL { directory.appendingPathComponent("optimizer.safetensors") }
    var logURL: URL { directory.appendingPathComponent("log.jsonl") }
    public var finalURL: URL { directory.appendingPathComponent("final.safetensors") }
    public func checkpointURL(epoch: Int) -> URL { directory.appendingPathComponent(String(format: "epoch-%03d.safetensors", epoch)) }

    /// Starts a run in `directory`, or with `resume` continues the one there. A directory that
    /// already holds a run is never overwritten without `resume`.
    public init(_ trainer: Trainer, test: Dataset?, directory: URL, metadata: [String: String], resume: Bool) throws {
        self.trainer = trainer
        self.test = test
        self.directory = directory
        self.metadata = metadata
        let manager = FileManager.default
        let existing = manager.fileExists(atPath: configurationURL.path)
        if resume {
            guard existing else { throw TrainingError("--resume: \(directory.path) holds no run (no run.json)") }
            try resumeFromDisk()
        } else {
            guard !existing else {
                throw TrainingError("\(directory.path) already holds a run; pass --resume to continue it or choose another --out")
            }
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            try Self.writeAtomically(Data(trainer.configuration.json.utf8), to: configurationURL)
        }
    }

    private func resumeFromDisk() throws {
        let saved = try String(contentsOf: configurationURL, encoding: .utf8)
        guard saved == trainer.configuration.json else {
            throw TrainingError("--resume: the arguments differ from those of the run in \(configurationURL.path); rerun with the same arguments")
        }
        guard FileManager.default.fileExists(atPath: optimizerURL.path) else { return }  // no epoch finished yet
        let optimizerState = try SafeTensorsFile(contentsOf: optimizerURL)
        guard let epoch = optimizerState.metadata["epoch"].flatMap(Int.init), epoch >= 1 else {
            throw FileError(file: optimizerURL.path, problem: "no valid 'epoch' metadata")
        }
        let checkpoint = try SafeTensorsFile(contentsOf: checkpointURL(epoch: epoch))
        try trainer.network.load(checkpoint)
        try trainer.optimizer.restore(optimizerState)
        completedEpochs = epoch
        let lines = (try? String(contentsOf: logURL, encoding: .utf8))?.split(separator: "\n").prefix(epoch) ?? []
        summaries = try lines.map { try JSONDecoder().decode(EpochSummary.self, from: Data($0.utf8)) }
        try writeLog()
    }

    /// Trains the remaining epochs, saving after each. `started` sees each epoch begin, `progress`
    /// every step, `finished` every epoch's summary, test figures included.
    public func run(started: (Int) -> Void = { _ in },
                    progress: (Int, Int, Trainer.Running) -> Void = { _, _, _ in },
                    finished: (EpochSummary) throws -> Void = { _ in }) throws {
        let configuration = trainer.configuration
        for epoch in completedEpochs..<configuration.epochs {
            started(epoch)
            var summary = try trainer.trainEpoch(epoch) { progress(epoch, $0, $1) }
            if let test {
                let result = trainer.network.evaluate(test)
                summary.testLoss = result.loss
                summary.testAccuracy = result.accuracy
            }
            try Checkpoint.write(trainer.network, metadata: checkpointMetadata(summary), to: checkpointURL(epoch: epoch + 1))
            var optimizerMetadata = ["epoch": "\(epoch + 1)", "step": "\(trainer.step)", "optimizer": optimizerJSON]
            optimizerMetadata["format"] = Checkpoint.format
            try SafeTensorsWriter.write(trainer.optimizer.state(), metadata: optimizerMetadata, to: optimizerURL)
            summaries.append(summary)
            try writeLog()
            completedEpochs = epoch + 1
            try finished(summary)
        }
        if let last = summaries.last {
            try Checkpoint.write(trainer.network, metadata: checkpointMetadata(last), to: finalURL)
        }
    }

    private var optimizerJSON: String { trainer.sam?.json ?? trainer.optimizer.json }

    private func checkpointMetadata(_ summary: EpochSummary) -> [String: String] {
        var values = metadata
        values["optimizer"] = optimizerJSON
        values["epoch"] = "\(summary.epoch)"
        values["step"] = "\(trainer.step)"
        values["seed"] = "\(trainer.configuration.seed)"
        values["train_loss"] = "\(summary.trainLoss)"
        values["train_accuracy"] = "\(summary.trainAccuracy)"
        if let loss = summary.testLoss, let accuracy = summary.testAccuracy {
            values["test_loss"] = "\(loss)"
            values["test_accuracy"] = "\(accuracy)"
        }
        return values
    }

    private func writeLog() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = ""
        for summary in summaries { text += String(decoding: try encoder.encode(summary), as: UTF8.self) + "\n" }
        try Self.writeAtomically(Data(text.utf8), to: logURL)
    }

    /// Writes through a temporary file in the same directory, renamed over the destination.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        try data.write(to: url, options: .atomic)
    }
}
