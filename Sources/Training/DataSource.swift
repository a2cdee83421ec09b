import Foundation

/// A data set named the way the command line names it: `fashion-mnist` (the Debian package
/// dataset-fashion-mnist), a directory of MNIST-format IDX files, `cifar10:DIR` or `cifar100:DIR`
/// (the binary versions), or the synthetic `spirals` and `blobs` (2-D points).
public struct DataSource: Sendable, CustomStringConvertible {
    public let train: Dataset
    public let test: Dataset
    /// How inputs were scaled, for checkpoint metadata.
    public let preprocessing: String
    public let description: String

    public init(_ source: String) throws {
        description = source
        switch source {
        case "spirals":
            train = SyntheticData.twoSpirals(count: 2000, noise: 0.05, seed: 0)
            test = SyntheticData.twoSpirals(count: 1000, noise: 0.05, seed: 1)
            preprocessing = "none"
        case "blobs":
            train = SyntheticData.gaussianBlobs(count: 2000, classes: 4, features: 2, spread: 1, seed: 0)
            test = SyntheticData.gaussianBlobs(count: 1000, classes: 4, features: 2, spread: 1, seed: 1)
            preprocessing = "none"
        case let name where name.hasPrefix("cifar10:") || name.hasPrefix("cifar100:"):
            let variant: CIFAR.Variant = name.hasPrefix("cifar10:") ? .cifar10 : .cifar100
            let directory = URL(fileURLWithPath: String(name.drop { $0 != ":" }.dropFirst()))
            train = try CIFAR.load(variant, split: .train, directory: directory)
            test = try CIFAR.load(variant, split: .test, directory: directory)
            preprocessing = "per-channel (p / 255 - mean) / std of \(variant.rawValue)"
        default:
            let directory = source == "fashion-mnist" ? FashionMNIST.defaultDirectory : URL(fileURLWithPath: source)
            train = try FashionMNIST.load(split: .train, directory: directory)
            test = try FashionMNIST.load(split: .test, directory: directory)
            preprocessing = "(p / 255 - \(FashionMNIST.mean)) / \(FashionMNIST.std)"
        }
    }
}
