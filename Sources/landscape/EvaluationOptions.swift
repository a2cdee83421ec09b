import ArgumentParser
import Analysis
import Foundation
import Networks
import Training

/// The data an analysis evaluates the loss on: a fixed, seeded subset of a split.
struct EvaluationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("fashion-mnist, a directory of MNIST-format files, cifar10:DIR, cifar100:DIR, spirals or blobs.", valueName: "source"))
    var data = "fashion-mnist"
    @Option(help: "train, test or both (surfaces compute both in one run).")
    var split = "train"
    @Option(help: "Samples of each split, a seeded random subset (0: all).")
    var samples = 2000
    @Option(help: "Seed of the subset.")
    var sampleSeed: UInt64 = 0
    @Option(help: "Batch-norm during evaluation: eval (running statistics) or train (batch statistics).")
    var batchNorm = "eval"

    func validate() throws {
        guard ["train", "test", "both"].contains(split) else { throw ValidationError("--split must be train, test or both, got \(split)") }
        guard samples >= 0 else { throw ValidationError("--samples must not be negative") }
        guard ["eval", "train"].contains(batchNorm) else { throw ValidationError("--batch-norm must be eval or train, got \(batchNorm)") }
    }

    var mode: Mode { batchNorm == "eval" ? .evaluation : .training(updatesStatistics: false) }

    /// The evaluation sets by name (`train`, `test`), each its seeded subset.
    func sets() throws -> [(name: String, data: Dataset)] {
        let all = try DataSource(data)
        let chosen: [(String, Dataset)] = switch split {
        case "train": [("train", all.train)]
        case "test": [("test", all.test)]
        default: [("train", all.train), ("test", all.test)]
        }
        return try chosen.map { name, set in
            guard samples > 0, samples < set.count else { return (name, set) }
            return (name, try set.subset(.random(samples, seed: sampleSeed)))
        }
    }

    /// A description for result files.
    var summary: String { "\(data) \(split), \(samples == 0 ? "all" : String(samples)) samples (seed \(sampleSeed)), batch-norm \(batchNorm)" }
}

/// A checkpoint to analyse: ours, or a PyTorch `state_dict` saved with safetensors (then `--model`
/// names the architecture if the file does not).
struct CheckpointOptions: ParsableArguments {
    @Option(help: "The zoo model, for checkpoints without architecture metadata.")
    var model: String?

    func load(_ path: String) throws -> Network<Float> {
        let fallback = try model.map { try Architecture(name: $0) }
        return try Checkpoint.read(URL(fileURLWithPath: path), architecture: fallback).network
    }
}

/// Parses a grid option, naming it in the error.
func gridAxis(_ option: String, _ value: String) throws -> GridAxis {
    do {
        return try GridAxis(argument: value)
    } catch {
        throw ValidationError("\(option) \(value): \(error.description)")
    }
}
