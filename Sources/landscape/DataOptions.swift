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
        let source = try DataSource(data)
        var sets = Sets(train: source.train, test: source.test, augmentation: try Self.augmentation(augment ?? "none"),
                        preprocessing: source.preprocessing)
        if let subset {
            guard let selection = Subset(argument: subset) else {
                throw ValidationError("--subset \(subset): expected N or random:N[:SEED] with N > 0")
            }
            sets.train = try sets.train.subset(selection)
        }
        return sets
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
