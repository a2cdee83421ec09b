import CZlib
import Foundation
import LandscapeCore
import Testing
import Training

/// The bytes of an IDX file of unsigned bytes: magic, big-endian dimensions, data.
private func idxBytes(dimensions: [UInt32], data: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
    for dimension in dimensions {
        withUnsafeBytes(of: dimension.bigEndian) { bytes += $0 }
    }
    return bytes + data
}

/// Writes `bytes` to `url`, gzip-compressed through zlib when `compressed`.
private func writeFile(_ bytes: [UInt8], to url: URL, compressed: Bool) throws {
    guard compressed else {
        try Data(bytes).write(to: url)
        return
    }
    let file = try #require(gzopen(url.path, "wb"))
    let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
    #expect(Int(written) == bytes.count)
    #expect(gzclose(file) == Z_OK)
}

/// A fresh directory under the system temporary directory, removed by the caller.
private func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("IDXTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes an image file and a label file for `split` in MNIST naming.
private func writeSplit(
    _ split: DataSplit, in directory: URL, images: [UInt8], imageDimensions: [UInt32],
    labels: [UInt8], compressed: Bool
) throws {
    let prefix = split == .train ? "train" : "t10k"
    let suffix = compressed ? ".gz" : ""
    try writeFile(idxBytes(dimensions: imageDimensions, data: images),
                  to: directory.appendingPathComponent("\(prefix)-images-idx3-ubyte\(suffix)"), compressed: compressed)
    try writeFile(idxBytes(dimensions: [UInt32(labels.count)], data: labels),
                  to: directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte\(suffix)"), compressed: compressed)
}

/// The error from reading `bytes` as an IDX file, checked to be one line naming the file.
private func idxError(_ bytes: [UInt8], compressed: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws -> FileError {
    let directory = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("bad-idx")
    try writeFile(bytes, to: url, compressed: compressed)
    let error = try #require(throws: FileError.self, sourceLocation: sourceLocation) { try IDXFile(contentsOf: url) }
    #expect(error.file == url.path, sourceLocation: sourceLocation)
    #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
    return error
}

/// The error from loading the train split of `directory`.
private func loadError(_ directory: URL) throws -> FileError {
    let error = try #require(throws: FileError.self) { try FashionMNIST.load(split: .train, directory: directory) }
    #expect(!error.description.contains("\n"))
    return error
}

@Suite struct IDXTests {
    // MARK: - Reading

    @Test(arguments: [false, true])
    func readsDimensionsAndBytes(compressed: Bool) throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("cube")
        let data = (0..<24).map { UInt8($0 * 10) }
        try writeFile(idxBytes(dimensions: [2, 3, 4], data: data), to: url, compressed: compressed)
        let file = try IDXFile(contentsOf: url)
        #expect(file.dimensions == [2, 3, 4])
        #expect(file.bytes == data)
    }

    @Test(arguments: [false, true])
    func loadsNormalisedDataset(compressed: Bool) throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pixels: [UInt8] = [0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60, 200, 201, 202, 203, 204, 205]
        try writeSplit(.train, in: directory, images: pixels, imageDimensions: [3, 2, 3], labels: [9, 0, 4], compressed: compressed)

        let dataset = try FashionMNIST.load(split: .train, directory: directory)
        #expect(dataset.count == 3)
        #expect((dataset.height, dataset.width, dataset.channels, dataset.classes) == (2, 3, 1, 10))
        #expect(dataset.sampleSize == 6)
        #expect(dataset.labels == [9, 0, 4])
        #expect(dataset.images == pixels.map { (Float($0) / 255 - 0.2860) / 0.3530 })
        #expect(abs(dataset.images[0] - -0.810198) < 1e-5)
        #expect(abs(dataset.images[1] - 2.022663) < 1e-5)
        #expect(dataset.name.contains("train"))
    }

    @Test func testSplitUsesT10kFiles() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSplit(.test, in: directory, images: [7, 8], imageDimensions: [2, 1, 1], labels: [1, 2], compressed: false)
        let dataset = try FashionMNIST.load(split: .test, directory: directory)
        #expect(dataset.labels == [1, 2])
        #expect(throws: FileError.self) { try FashionMNIST.load(split: .train, directory: directory) }
    }

    @Test func ignoresTrailingGarbage() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("padded")
        try writeFile(idxBytes(dimensions: [3], data: [1, 2, 3, 4, 5, 6]), to: url, compressed: false)
        #expect(try IDXFile(contentsOf: url).bytes == [1, 2, 3])
    }

    // MARK: - Bad input

    @Test func reportsMissingFile() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = try loadError(directory)
        #expect(error.file == directory.appendingPathComponent("train-images-idx3-ubyte.gz").path)
        #expect(error.problem.contains("no such file"))
        #expect(!error.problem.contains("dataset-fashion-mnist"))

        let direct = try #require(throws: FileError.self) { try IDXFile(contentsOf: directory.appendingPathComponent("absent")) }
        #expect(direct.problem == "no such file")
    }

    @Test func missingFileInDefaultDirectoryNamesDebianPackage() {
        let error = FashionMNIST.missingFile("t10k-images-idx3-ubyte", in: FashionMNIST.defaultDirectory)
        #expect(error.file == "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
        #expect(error.problem.contains("install the Debian package dataset-fashion-mnist"))
    }

    @Test func rejectsBadMagic() throws {
        let error = try idxError([0x1F, 0x00, 0x08, 0x01, 0, 0, 0, 0])
        #expect(error.problem.contains("bad magic 0x1f000801"))
    }

    @Test func rejectsNonByteType() throws {
        let error = try idxError(idxBytes(dimensions: [1], data: [0, 0, 0, 0], type: 0x0D))
        #expect(error.problem == "element type 0x0d is not unsigned byte (0x08)")
    }

    @Test func rejectsShortHeader() throws {
        #expect(try idxError([0, 0]).problem.contains("too short"))
        #expect(try idxError([0, 0, 8, 3, 0, 0, 0, 1]).problem.contains("truncated header"))
        #expect(try idxError([0, 0, 8, 0]).problem.contains("no dimensions"))
    }

    @Test func rejectsOversizedDimensions() throws {
        let large = try idxError(idxBytes(dimensions: [60000, 28, 28, 28, 28], data: []))
        #expect(large.problem.contains("over the 2147483648-byte limit"))
        let overflow = try idxError(idxBytes(dimensions: Array(repeating: .max, count: 3), data: []))
        #expect(overflow.problem.contains("overflow"))
    }

    @Test(arguments: [false, true])
    func rejectsTruncatedData(compressed: Bool) throws {
        let error = try idxError(idxBytes(dimensions: [2, 2], data: [1, 2, 3]), compressed: compressed)
        #expect(error.problem.contains("truncated"))
        #expect(error.problem.contains("need 4 data bytes, found 3"))
    }

    @Test func rejectsTruncatedGzipStream() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("cut.gz")
        // Incompressible-looking data, so that cutting the stream short removes data, not just the trailer.
        var state: UInt32 = 12345
        let data = (0..<4096).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        try writeFile(idxBytes(dimensions: [4096], data: data), to: url, compressed: true)
        let whole = try Data(contentsOf: url)
        try whole.prefix(whole.count / 2).write(to: url)

        let error = try #require(throws: FileError.self) { try IDXFile(contentsOf: url) }
        #expect(error.problem.contains("truncated"))
        #expect(error.problem.contains("gzip stream ends early"))
    }

    @Test func rejectsCountMismatch() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSplit(.train, in: directory, images: [1, 2, 3], imageDimensions: [3, 1, 1], labels: [0, 1], compressed: true)
        let error = try loadError(directory)
        #expect(error.file.hasSuffix("train-labels-idx1-ubyte.gz"))
        #expect(error.problem.contains("2 labels for 3 images"))
    }

    @Test func rejectsLabelOutOfRange() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSplit(.train, in: directory, images: [1, 2, 3], imageDimensions: [3, 1, 1], labels: [0, 10, 1], compressed: false)
        let error = try loadError(directory)
        #expect(error.problem == "label 10 at index 1 is not in 0..<10")
    }

    @Test func rejectsWrongRank() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSplit(.train, in: directory, images: [1, 2, 3], imageDimensions: [3, 1], labels: [0, 1, 2], compressed: false)
        #expect(try loadError(directory).problem.contains("are not [images, rows, columns]"))
    }

    // MARK: - Real data

    @Test(.enabled(if: FashionMNIST.isInstalled, "Fashion-MNIST is not installed at the Debian location"))
    func loadsRealTestSplit() throws {
        let dataset = try FashionMNIST.load(split: .test)
        #expect(dataset.count == 10000)
        #expect((dataset.height, dataset.width, dataset.channels) == (28, 28, 1))
        #expect(dataset.images.count == 10000 * 28 * 28)
        #expect(dataset.labels.allSatisfy { (0..<10).contains($0) })
        #expect(dataset.labels.first == 9)
        #expect(Set(dataset.labels).count == 10)
        let minimum = try #require(dataset.images.min())
        #expect(abs(minimum - -FashionMNIST.mean / FashionMNIST.std) < 1e-6)
    }
}
