import Foundation
import LandscapeCore
import Networks
import Testing
import Training

/// Training runs on disk: checkpoints per epoch, resuming, refusing to overwrite, non-finite losses.
struct TrainingRunTests {
    static let train = SyntheticData.randomImages(count: 96, side: 8, channels: 1, classes: 10, seed: 3)
    static let test = SyntheticData.randomImages(count: 32, side: 8, channels: 1, classes: 10, seed: 4)

    static func configuration(_ method: TrainingConfiguration.Method = .sam, schedule: String = "cosine:0.5") -> TrainingConfiguration {
        TrainingConfiguration(architecture: Architecture(family: .cnn, side: 8), data: "random", epochs: 3, batchSize: 32,
                              learningRate: 0.05, schedule: schedule, method: method, seed: 5)
    }

    static func directory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("landscape-run-\(UUID().uuidString)")
    }

    struct Interrupted: Error {}

    @Test("a run interrupted after an epoch and resumed ends with the same weights as an uninterrupted run")
    func resumeIsExact() throws {
        let whole = Self.directory(), split = Self.directory()
        defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: split) }
        let uninterrupted = try TrainingRun(try Trainer(Self.configuration(), train: Self.train), test: Self.test,
                                            directory: whole, metadata: [:], resume: false)
        try uninterrupted.run()

        let first = try TrainingRun(try Trainer(Self.configuration(), train: Self.train), test: Self.test,
                                    directory: split, metadata: [:], resume: false)
        #expect(throws: Interrupted.self) { try first.run(finished: { _ in throw Interrupted() }) }
        let resumed = try TrainingRun(try Trainer(Self.configuration(), train: Self.train), test: Self.test,
                                      directory: split, metadata: [:], resume: true)
        #expect(resumed.completedEpochs == 1)
        try resumed.run()

        let a = try SafeTensorsFile(contentsOf: uninterrupted.finalURL), b = try SafeTensorsFile(contentsOf: resumed.finalURL)
        for entry in a.entries {
            if entry.dtype == .i64 {
                #expect(try a.integers(entry.name) == b.integers(entry.name), "\(entry.name) differs after resuming")
            } else {
                #expect(try a.floats(entry.name) == b.floats(entry.name), "\(entry.name) differs after resuming")
            }
        }
        for epoch in 1...3 {
            #expect(FileManager.default.fileExists(atPath: resumed.checkpointURL(epoch: epoch).path))
        }
        let log = try String(contentsOf: split.appendingPathComponent("log.jsonl"), encoding: .utf8)
        #expect(log.split(separator: "\n").count == 3)
        #expect(uninterrupted.summaries.map(\.trainLoss) == resumed.summaries.map(\.trainLoss))
    }

    @Test("checkpoints rebuild the model from their metadata alone")
    func checkpointMetadata() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try TrainingRun(try Trainer(Self.configuration(.sgd), train: Self.train), test: Self.test,
                                  directory: directory, metadata: ["dataset": "random"], resume: false)
        try run.run()
        let (network, metadata) = try Checkpoint.read(run.finalURL)
        #expect(network.architecture == Architecture(family: .cnn, side: 8))
        #expect(Array(network.parameters.elements) == Array(run.trainer.network.parameters.elements))
        #expect(Array(network.state.elements) == Array(run.trainer.network.state.elements))
        #expect(network.batchesTracked == run.trainer.network.batchesTracked)
        #expect(metadata["epoch"] == "3" && metadata["seed"] == "5" && metadata["dataset"] == "random")
        #expect(metadata["format"] == Checkpoint.format)
        #expect(metadata["optimizer"]?.contains(#""name":"sgd""#) == true)
    }

    @Test("a directory that holds a run is not overwritten, and --resume checks the arguments")
    func refusesToOverwrite() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try TrainingRun(try Trainer(Self.configuration(), train: Self.train), test: nil, directory: directory, metadata: [:], resume: false)
        #expect(throws: TrainingError.self) {
            try TrainingRun(try Trainer(Self.configuration(), train: Self.train), test: nil, directory: directory, metadata: [:], resume: false)
        }
        var other = Self.configuration()
        other.rho = 0.1
        #expect(throws: TrainingError.self) {
            try TrainingRun(try Trainer(other, train: Self.train), test: nil, directory: directory, metadata: [:], resume: true)
        }
    }

    @Test("a non-finite loss stops training with an error naming the step and keeps the last good checkpoint")
    func nonFiniteLoss() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The rate jumps by 1e12 after the first epoch, so the second one diverges.
        let configuration = Self.configuration(.sgd, schedule: "step:1:1e12")
        let run = try TrainingRun(try Trainer(configuration, train: Self.train), test: nil, directory: directory, metadata: [:], resume: false)
        do {
            try run.run()
            Issue.record("training did not stop")
        } catch let error as TrainingError {
            #expect(error.description.contains("at step"))
            #expect(error.description.contains("epoch 2"))
        }
        #expect(run.completedEpochs == 1)
        let (network, _) = try Checkpoint.read(run.checkpointURL(epoch: 1))
        let finite = network.parameters.elements.allSatisfy { $0.isFinite }
        #expect(finite)
    }
}
