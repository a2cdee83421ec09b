import ArgumentParser
import Foundation
import Training

/// Where the training and test samples come from, which of them, and how they are augmented.
struct DataOptions: ParsableArguments, CustomStringConvertible {
    @Option(help: ArgumentHelp("""
        fashion-mnist (the Debian package dataset-fashion-mnist), a directory of MNIST-format IDX \
        files, cifar10:DIR or cifar100:DIR (the binary versions), or the synthetic spirals or blobs.
        """, valueName: "source"))
    var data = "fashion-mnist"
    @Option(help: ArgumentHelp("Train on the first N samples (N) or a seeded random N (random:N[:SEED]).", valueName: "subset"))
    var subset: String?
    @Option(help: ArgumentHelp("Augmentation: none, or crop:PADDING and/or flip, comma-separated (e.g. crop:4,flip).", valueName: "list"))
    var augment: String?

    var description: String { data }

    /// The train and test sets, the augmentation and a description of the preprocessing.
    struct Sets {
        var train: Dataset
        var test: Dataset
        var augmentation: Augmentation
        var preprocessing: String
    }

    func load() throws -> Sets {
        var sets = try loadSource()
        if let subset {
            guard let selection = Subset(argument: subset) else {
                throw ValidationError("--subset \(subset): expected N or random:N[:SEED] with N > 0")
            }
            sets.train = try sets.train.subset(selection)
        }
        sets.augmentation = try Self.augmentation(augment ?? "none")
        return sets
    }

    private func loadSource() throws -> Sets {
        func cifar(_ variant: CIFAR.Variant, _ path: Substring) throws -> Sets {
            let directory = URL(fileURLWithPath: String(path))
            return Sets(train: try CIFAR.load(variant, split: .train, directory: directory),
                        test: try CIFAR.load(variant, split: .test, directory: directory),
                        augmentation: .none, preprocessing: "per-channel (p / 255 - mean) / std of \(variant.rawValue)")
        }
        switch data {
        case "spirals":
            return Sets(train: SyntheticData.twoSpirals(count: 2000, noise: 0.05, seed: 0),
                        test: SyntheticData.twoSpirals(count: 1000, noise: 0.05, seed: 1), augmentation: .none, preprocessing: "none")
        case "blobs":
            return Sets(train: SyntheticData.gaussianBlobs(count: 2000, classes: 4, features: 2, spread: 1, seed: 0),
                        test: SyntheticData.gaussianBlobs(count: 1000, classes: 4, features: 2, spread: 1, seed: 1),
                        augmentation: .none, preprocessing: "none")
        case let name where name.hasPrefix("cifar10:"):
            return try cifar(.cifar10, name.dropFirst("cifar10:".count))
        case let name where name.hasPrefix("cifar100:"):
            return try cifar(.cifar100, name.dropFirst("cifar100:".count))
        default:
            let directory = data == "fashion-mnist" ? FashionMNIST.defaultDirectory : URL(fileURLWithPath: data)
            return Sets(train: try FashionMNIST.load(split: .train, directory: directory),
                        test: try FashionMNIST.load(split: .test, directory: directory),
                        augmentation: .none, preprocessing: "(p / 255 - 0.2860) / 0.3530")
        }
    }

    static func augmentation(_ argument: String) throws -> Augmentation {
        var augmentation = Augmentation.none
        guard argument != "none" else { return augmentation }
        for part in argument.split(separator: ",") {
            if part == "flip" {
                augmentation.horizontalFlip = true
            } else if part.hasPrefix("crop:"), let padding = Int(part.dropFirst("crop:".count)), padding > 0 {
                augmentation.cropPadding = padding
            } else {
                throw ValidationError("--augment \(argument): expected none, or crop:PADDING and/or flip, e.g. crop:4,flip")
            }
        }
        return augmentation
    }
}

extension TrainingConfiguration.BaseOptimizer: ExpressibleByArgument {}
extension TrainingConfiguration.Method: ExpressibleByArgument {}
extension TrainingConfiguration.WeightDecayPlacement: ExpressibleByArgument {}
