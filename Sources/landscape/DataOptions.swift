import ArgumentParser
import Foundation
import Training

/// Where the training and test images come from.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("fashion-mnist (the Debian package dataset-fashion-mnist), or a directory of MNIST-format IDX files.", valueName: "name|directory"))
    var data = "fashion-mnist"

    /// The split, loaded and scaled as the reference preprocessing says.
    func load(_ split: DataSplit) throws -> Dataset {
        let directory = data == "fashion-mnist" ? FashionMNIST.defaultDirectory : URL(fileURLWithPath: data)
        return try FashionMNIST.load(split: split, directory: directory)
    }
}
