import Foundation
import LandscapeCore
import Testing
import Training

/// Reading the CIFAR-10 and CIFAR-100 binary formats from tiny files written here in the exact format.
struct CIFARTests {
    /// The pixel byte of record `record`, channel `c`, row `y`, column `x`: distinct enough across
    /// positions and records to catch a transposed layout.
    static func pixel(record: Int, c: Int, y: Int, x: Int) -> UInt8 {
        UInt8((record * 37 + c * 85 + y * 7 + x * 3) % 256)
    }

    /// One record: the label bytes, then the R, G and B planes, each 32x32 row-major.
    static func record(_ record: Int, labels: [UInt8]) -> [UInt8] {
        var bytes = labels
        for c in 0..<3 {
            for y in 0..<32 {
                for x in 0..<32 {
                    bytes.append(pixel(record: record, c: c, y: y, x: x))
                }
            }
        }
        return bytes
    }

    /// The position of channel `c` of pixel `(y, x)` of sample `record` in a loaded data set.
    static func index(record: Int, y: Int, x: Int, c: Int) -> Int {
        record * 3072 + (y * 32 + x) * 3 + c
    }

    /// Writes `records` (label bytes per record, pixels numbered from `firstRecord`) to `name`.
    static func write(_ name: String, in directory: URL, labels: [[UInt8]], firstRecord: Int = 0) throws {
        let bytes = labels.enumerated().flatMap { record(firstRecord + $0.offset, labels: $0.element) }
        try Data(bytes).write(to: directory.appendingPathComponent(name))
    }

    /// A fresh directory under the system temporary directory, removed by the caller.
    static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("CIFARTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A CIFAR-10 directory: five training batches of 3 records (labels `3b + i` for batch `b`
    /// counted from 0, pixels numbered 0...14 across batches) and a test batch of 2.
    static func writeCIFAR10(in directory: URL) throws {
        for b in 0..<5 {
            try write("data_batch_\(b + 1).bin", in: directory, labels: (0..<3).map { [UInt8((3 * b + $0) % 10)] }, firstRecord: 3 * b)
        }
        try write("test_batch.bin", in: directory, labels: [[7], [2]])
    }

    /// The error from loading, checked to be one line.
    static func loadError(
        _ variant: CIFAR.Variant, _ split: DataSplit = .train, in directory: URL, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> FileError {
        let error = try #require(throws: FileError.self, sourceLocation: sourceLocation) {
            try CIFAR.load(variant, split: split, directory: directory)
        }
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        return error
    }

    @Test("CIFAR-10: batches 1 to 5 concatenated, labels, channels-last pixels, per-channel normalisation")
    func loadsCIFAR10() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeCIFAR10(in: directory)

        let train = try CIFAR.load(.cifar10, split: .train, directory: directory)
        #expect(train.name == "cifar-10/train")
        #expect(train.count == 15)
        #expect((train.height, train.width, train.channels, train.classes) == (32, 32, 3, 10))
        #expect(train.labels == (0..<15).map { Int32($0 % 10) })

        // Every value of record 4 (the second of batch 2): HWC position of CHW byte (c, y, x).
        let mean = CIFAR.Variant.cifar10.mean, std = CIFAR.Variant.cifar10.std
        for y in 0..<32 {
            for x in 0..<32 {
                for c in 0..<3 {
                    let value = train.images[Self.index(record: 4, y: y, x: x, c: c)]
                    let expected = (Float(Self.pixel(record: 4, c: c, y: y, x: x)) / 255 - mean[c]) / std[c]
                    #expect(value == expected, "record 4, pixel (\(y), \(x)), channel \(c)")
                }
            }
        }
        // A known pixel by hand: record 1, row 2, column 5, green is byte (37 + 85 + 14 + 15) % 256 = 151.
        #expect(Self.pixel(record: 1, c: 1, y: 2, x: 5) == 151)
        let green: Float = (151 / 255 - 0.4822) / 0.2435
        #expect(abs(train.images[Self.index(record: 1, y: 2, x: 5, c: 1)] - green) < 1e-6)

        let test = try CIFAR.load(.cifar10, split: .test, directory: directory)
        #expect(test.name == "cifar-10/test")
        #expect(test.labels == [7, 2])
        #expect(Array(test.images[..<3072]) == Array(train.images[..<3072]))
    }

    @Test("normalisation uses the documented training statistics: (p / 255 - mean) / std")
    func statistics() {
        #expect(CIFAR.Variant.cifar10.mean == [0.4914, 0.4822, 0.4465])
        #expect(CIFAR.Variant.cifar10.std == [0.2470, 0.2435, 0.2616])
        #expect(CIFAR.Variant.cifar100.mean == [0.5071, 0.4865, 0.4409])
        #expect(CIFAR.Variant.cifar100.std == [0.2673, 0.2564, 0.2762])
    }

    @Test("black and white pixels map to -mean/std and (1 - mean)/std")
    func extremes() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var bytes: [UInt8] = [3] + [UInt8](repeating: 0, count: 3072)
        bytes[1 + 1024 * 2 + 5] = 255  // blue plane, pixel (0, 5)
        try Data(bytes).write(to: directory.appendingPathComponent("test_batch.bin"))
        let data = try CIFAR.load(.cifar10, split: .test, directory: directory)
        #expect(abs(data.images[0] - -1.989474) < 1e-5)  // -0.4914 / 0.2470
        #expect(abs(data.images[Self.index(record: 0, y: 0, x: 5, c: 2)] - 2.115826) < 1e-5)  // (1 - 0.4465) / 0.2616
        #expect(abs(data.images[Self.index(record: 0, y: 0, x: 5, c: 1)] - -1.980287) < 1e-5)  // -0.4822 / 0.2435
    }

    @Test("CIFAR-100: fine labels by default, coarse on request, from the archive subdirectory")
    func loadsCIFAR100() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("cifar-100-binary")
        try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: true)
        try Self.write("train.bin", in: archive, labels: [[19, 99], [0, 3], [11, 42]])
        try Self.write("test.bin", in: archive, labels: [[4, 50]])

        let fine = try CIFAR.load(.cifar100, split: .train, directory: directory)
        #expect(fine.name == "cifar-100/train")
        #expect(fine.labels == [99, 3, 42])
        #expect(fine.classes == 100)
        let coarse = try CIFAR.load(.cifar100, split: .train, directory: directory, labels: .coarse)
        #expect(coarse.name == "cifar-100-coarse/train")
        #expect(coarse.labels == [19, 0, 11])
        #expect(coarse.classes == 20)
        #expect(coarse.images == fine.images)

        // The second label byte is not a pixel: pixel data starts 2 bytes into each record.
        let (mean, std) = (CIFAR.Variant.cifar100.mean, CIFAR.Variant.cifar100.std)
        let value = fine.images[Self.index(record: 2, y: 31, x: 30, c: 2)]
        #expect(value == (Float(Self.pixel(record: 2, c: 2, y: 31, x: 30)) / 255 - mean[2]) / std[2])
        #expect(fine.images[0] == (Float(Self.pixel(record: 0, c: 0, y: 0, x: 0)) / 255 - mean[0]) / std[0])

        let test = try CIFAR.load(.cifar100, split: .test, directory: directory)
        #expect(test.labels == [50])
    }

    @Test("CIFAR-10 files are also found in cifar-10-batches-bin")
    func cifar10Subdirectory() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appendingPathComponent("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: true)
        try Self.writeCIFAR10(in: archive)
        #expect(try CIFAR.load(.cifar10, split: .train, directory: directory).count == 15)
        #expect(try CIFAR.load(.cifar10, split: .test, directory: archive).count == 2)
    }

    // MARK: - Bad input

    @Test("missing files: the error lists what was looked for and what is missing")
    func missingFiles() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = try Self.loadError(.cifar10, in: directory)
        #expect(empty.file == directory.appendingPathComponent("data_batch_1.bin").path)
        #expect(empty.problem.contains("no such file"))
        #expect(empty.problem.contains("data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin"))
        #expect(empty.problem.contains("cifar-10-batches-bin"))

        // With some batches in the archive subdirectory, the error points there and names the rest.
        let archive = directory.appendingPathComponent("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: true)
        try Self.writeCIFAR10(in: archive)
        try FileManager.default.removeItem(at: archive.appendingPathComponent("data_batch_4.bin"))
        let partial = try Self.loadError(.cifar10, in: directory)
        #expect(partial.file == archive.appendingPathComponent("data_batch_4.bin").path)
        #expect(partial.problem.hasSuffix("missing data_batch_4.bin"))

        let cifar100 = try Self.loadError(.cifar100, .test, in: directory)
        #expect(cifar100.file == directory.appendingPathComponent("test.bin").path)
        #expect(cifar100.problem.contains("cifar-100-binary"))
    }

    @Test("a file that is not a whole number of records is rejected, naming the record size")
    func partialRecord() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(Self.record(0, labels: [1]) + [9, 9]).write(to: directory.appendingPathComponent("test_batch.bin"))
        let error = try Self.loadError(.cifar10, .test, in: directory)
        #expect(error.file == directory.appendingPathComponent("test_batch.bin").path)
        #expect(error.problem.contains("size 3075 bytes is not a multiple of the 3073-byte CIFAR-10 record"))

        // A CIFAR-10 file read as CIFAR-100 fails the same way.
        try Self.write("test.bin", in: directory, labels: [[1], [2]])
        let swapped = try Self.loadError(.cifar100, .test, in: directory)
        #expect(swapped.problem.contains("size 6146 bytes is not a multiple of the 3074-byte CIFAR-100 record"))
    }

    @Test("labels outside the classes are rejected with their record")
    func labelOutOfRange() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeCIFAR10(in: directory)
        try Self.write("data_batch_3.bin", in: directory, labels: [[0], [1], [10]])
        let error = try Self.loadError(.cifar10, in: directory)
        #expect(error.file == directory.appendingPathComponent("data_batch_3.bin").path)
        #expect(error.problem == "label 10 in record 2 is not in 0..<10")

        try Self.write("train.bin", in: directory, labels: [[1, 100]])
        #expect(try Self.loadError(.cifar100, in: directory).problem == "fine label 100 in record 0 is not in 0..<100")
        try Self.write("train.bin", in: directory, labels: [[1, 5], [20, 5]])
        let coarse = try #require(throws: FileError.self) {
            try CIFAR.load(.cifar100, split: .train, directory: directory, labels: .coarse)
        }
        #expect(coarse.problem == "coarse label 20 in record 1 is not in 0..<20")
    }

    @Test("an empty file is rejected")
    func emptyFile() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeCIFAR10(in: directory)
        try Data().write(to: directory.appendingPathComponent("data_batch_5.bin"))
        let error = try Self.loadError(.cifar10, in: directory)
        #expect(error.file == directory.appendingPathComponent("data_batch_5.bin").path)
        #expect(error.problem == "file is empty")
    }
}
