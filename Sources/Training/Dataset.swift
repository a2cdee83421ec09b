import Foundation
import LandscapeCore

/// A labelled image data set held in memory.
///
/// Images are float32, `count x height x width x channels` (channels last), already normalised;
/// labels are class indices in `0..<classes`.
public struct Dataset: Sendable {
    /// A short name for logs and reports, such as `fashion-mnist/train`.
    public let name: String
    /// All pixels, sample after sample; sample `i` is `images[i * sampleSize ..< (i + 1) * sampleSize]`.
    public var images: [Float]
    /// One class index per sample.
    public var labels: [Int32]
    /// Image rows.
    public let height: Int
    /// Image columns.
    public let width: Int
    /// Values per pixel.
    public let channels: Int
    /// The number of classes; labels lie in `0..<classes`.
    public let classes: Int

    /// The number of samples.
    public var count: Int { labels.count }
    /// Floats per sample, `height * width * channels`.
    public var sampleSize: Int { height * width * channels }

    /// A data set from its parts; the sizes must agree (`images.count == labels.count * sampleSize`)
    /// and every label must lie in `0..<classes`.
    public init(name: String, images: [Float], labels: [Int32], height: Int, width: Int, channels: Int, classes: Int) {
        precondition(height > 0 && width > 0 && channels > 0, "image size \(height)x\(width)x\(channels) must be positive")
        precondition(classes > 0, "a data set needs at least one class")
        precondition(images.count == labels.count * height * width * channels,
                     "\(images.count) pixels do not make \(labels.count) images of \(height)x\(width)x\(channels)")
        precondition(labels.allSatisfy { 0 <= $0 && Int($0) < classes }, "labels must lie in 0..<\(classes)")
        self.name = name
        self.images = images
        self.labels = labels
        self.height = height
        self.width = width
        self.channels = channels
        self.classes = classes
    }
}

/// Which half of a data set: the training split or the held-out test split.
public enum DataSplit: String, Sendable, CaseIterable {
    case train, test
}

/// Fashion-MNIST: 28x28 greyscale images of clothing in 10 classes, 60000 for training and 10000
/// for testing, stored in MNIST's IDX format.
public enum FashionMNIST {
    /// Where the Debian package dataset-fashion-mnist installs it.
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
    /// The mean of the training pixels scaled to 0...1.
    public static let mean: Float = 0.2860
    /// The standard deviation of the training pixels scaled to 0...1.
    public static let std: Float = 0.3530
    /// The number of classes.
    public static let classes = 10
    /// Whether the test split's files are in `defaultDirectory`, where the benchmark reads them.
    public static var isInstalled: Bool {
        ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"].allSatisfy { (try? locate($0, in: defaultDirectory)) != nil }
    }

    /// Loads `train-images-idx3-ubyte` and `train-labels-idx1-ubyte` (or the `t10k-` files for the
    /// test split) from any MNIST-format directory, each gzip-compressed (`.gz`, preferred) or not.
    ///
    /// Pixels `p` in 0...255 become `(p / 255 - mean) / std`, the project's reference preprocessing.
    public static func load(split: DataSplit, directory: URL = defaultDirectory) throws(FileError) -> Dataset {
        let prefix = split == .train ? "train" : "t10k"
        let imagesURL = try locate("\(prefix)-images-idx3-ubyte", in: directory)
        let labelsURL = try locate("\(prefix)-labels-idx1-ubyte", in: directory)
        let images = try IDXFile(contentsOf: imagesURL)
        let labels = try IDXFile(contentsOf: labelsURL)

        guard images.dimensions.count == 3 else {
            throw FileError(file: imagesURL.path, problem: "dimensions \(images.dimensions) are not [images, rows, columns]")
        }
        let (count, height, width) = (images.dimensions[0], images.dimensions[1], images.dimensions[2])
        guard height > 0, width > 0 else {
            throw FileError(file: imagesURL.path, problem: "images of \(height)x\(width) pixels are empty")
        }
        guard labels.dimensions.count == 1 else {
            throw FileError(file: labelsURL.path, problem: "dimensions \(labels.dimensions) are not [labels]")
        }
        guard labels.dimensions[0] == count else {
            throw FileError(file: labelsURL.path, problem: "\(labels.dimensions[0]) labels for \(count) images in \(imagesURL.path)")
        }
        if let index = labels.bytes.firstIndex(where: { Int($0) >= classes }) {
            throw FileError(file: labelsURL.path, problem: "label \(labels.bytes[index]) at index \(index) is not in 0..<\(classes)")
        }

        // 256 possible inputs: a table computes each value once and maps every pixel identically.
        let normalised = (0...255).map { (Float($0) / 255 - mean) / std }
        return Dataset(
            name: "fashion-mnist/\(split.rawValue)",
            images: images.bytes.map { normalised[Int($0)] },
            labels: labels.bytes.map { Int32($0) },
            height: height, width: width, channels: 1, classes: classes)
    }

    /// The URL of `base.gz`, or of `base` if only the uncompressed file exists.
    static func locate(_ base: String, in directory: URL) throws(FileError) -> URL {
        let compressed = directory.appendingPathComponent(base + ".gz")
        let plain = directory.appendingPathComponent(base)
        if FileManager.default.fileExists(atPath: compressed.path) { return compressed }
        if FileManager.default.fileExists(atPath: plain.path) { return plain }
        throw missingFile(base, in: directory)
    }

    /// The error for a file found neither compressed nor plain; for the default directory it says
    /// which package provides the data.
    public static func missingFile(_ base: String, in directory: URL) -> FileError {
        let hint = directory.standardizedFileURL.path == defaultDirectory.standardizedFileURL.path
            ? "; install the Debian package dataset-fashion-mnist" : ""
        return FileError(
            file: directory.appendingPathComponent(base + ".gz").path,
            problem: "no such file (nor uncompressed \(base))\(hint)")
    }
}
