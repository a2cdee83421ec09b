import Foundation
import LandscapeCore

/// CIFAR-10 and CIFAR-100 (Krizhevsky, "Learning Multiple Layers of Features from Tiny Images",
/// 2009): 32x32 colour images, 50000 for training and 10000 for testing, read from the binary
/// version of the data sets that the user downloads.
///
/// Each file is a sequence of fixed-size records: CIFAR-10 records are 1 label byte and 3072 pixel
/// bytes, CIFAR-100 records 1 coarse label byte, 1 fine label byte and 3072 pixel bytes. The pixels
/// are three 32x32 row-major planes, red then green then blue (CHW); loading turns them channels-last
/// (HWC) like every `Dataset`.
public enum CIFAR {
    /// Image rows and columns.
    public static let side = 32
    /// Colour channels: red, green, blue.
    public static let channels = 3
    /// Pixel bytes per record, `3 * 32 * 32`.
    public static let pixelBytes = channels * side * side
    /// The largest file accepted, 2^31 bytes: the biggest real file (CIFAR-100 `train.bin`) is about
    /// 154 MB, and a bound keeps a wrong path from making the loader read an enormous file.
    public static let maximumFileSize = 1 << 31

    /// Which of the two data sets.
    public enum Variant: String, Sendable, CaseIterable {
        case cifar10, cifar100

        /// The data set's usual name, `CIFAR-10` or `CIFAR-100`.
        public var displayName: String { self == .cifar10 ? "CIFAR-10" : "CIFAR-100" }

        /// The per-channel (red, green, blue) mean of the training pixels scaled to 0...1.
        ///
        /// These are the values commonly used with these data sets (in most PyTorch CIFAR training
        /// code): the mean over all 50000 x 32 x 32 pixels of the training split, per channel. The
        /// test split is normalised with the same training statistics.
        public var mean: [Float] {
            switch self {
            case .cifar10: [0.4914, 0.4822, 0.4465]
            case .cifar100: [0.5071, 0.4865, 0.4409]
            }
        }

        /// The per-channel (red, green, blue) standard deviation of the training pixels scaled to 0...1.
        ///
        /// Like `mean`, the commonly used values, computed over all pixels of the training split per
        /// channel. (Some code uses CIFAR-10 values near 0.20 instead; those average per-image
        /// standard deviations and understate the spread of the pixels.)
        public var std: [Float] {
            switch self {
            case .cifar10: [0.2470, 0.2435, 0.2616]
            case .cifar100: [0.2673, 0.2564, 0.2762]
            }
        }

        /// The number of classes: 10 for CIFAR-10; 100 fine or 20 coarse for CIFAR-100.
        public func classes(_ labels: CIFAR100Labels = .fine) -> Int {
            switch self {
            case .cifar10: 10
            case .cifar100: labels == .fine ? 100 : 20
            }
        }

        /// Label bytes at the start of each record.
        var labelBytes: Int { self == .cifar10 ? 1 : 2 }

        /// Bytes per record.
        var recordSize: Int { labelBytes + CIFAR.pixelBytes }

        /// The directory the official archive unpacks to; accepted inside the given directory.
        var archiveDirectory: String { self == .cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary" }

        /// The files of `split`, in the order their records are concatenated.
        func fileNames(_ split: DataSplit) -> [String] {
            switch (self, split) {
            case (.cifar10, .train): (1...5).map { "data_batch_\($0).bin" }
            case (.cifar10, .test): ["test_batch.bin"]
            case (.cifar100, .train): ["train.bin"]
            case (.cifar100, .test): ["test.bin"]
            }
        }
    }

    /// Loads `split` of `variant` from `directory`, or from the subdirectory the official archive
    /// unpacks to (`cifar-10-batches-bin`, `cifar-100-binary`) if the files are there instead.
    ///
    /// CIFAR-10's training split is `data_batch_1.bin` ... `data_batch_5.bin` in that order, its test
    /// split `test_batch.bin`; CIFAR-100's are `train.bin` and `test.bin`. `labels` chooses CIFAR-100's
    /// 100 fine or 20 coarse classes and is ignored for CIFAR-10. A pixel `p` in 0...255 of channel
    /// `c` becomes `(p / 255 - mean[c]) / std[c]` with the variant's training statistics.
    public static func load(
        _ variant: Variant, split: DataSplit, directory: URL, labels: CIFAR100Labels = .fine
    ) throws(FileError) -> Dataset {
        let files = try locate(variant.fileNames(split), variant: variant, split: split, in: directory)
        let recordSize = variant.recordSize
        let labelOffset = variant == .cifar100 && labels == .coarse ? 0 : variant.labelBytes - 1

        // Sizes first: a wrong file fails before anything is read, and the arrays are allocated once
        // from sizes that passed the checks.
        var counts: [Int] = []
        for file in files {
            try counts.append(recordCount(byteCount: fileSize(file), of: file, variant: variant))
        }
        let total = counts.reduce(0, +)
        var images = [Float](repeating: 0, count: total * pixelBytes)
        var classIndices = [Int32](repeating: 0, count: total)

        // 256 possible inputs per channel: a table computes each value once.
        let (mean, std) = (variant.mean, variant.std)
        let table = (0..<channels).flatMap { c in (0...255).map { (Float($0) / 255 - mean[c]) / std[c] } }
        let plane = side * side

        var first = 0
        for (file, count) in zip(files, counts) {
            let bytes = try read(file)
            guard bytes.count == count * recordSize else {
                throw FileError(file: file.path, problem: "file changed size while being loaded, from \(count * recordSize) to \(bytes.count) bytes")
            }
            try checkLabels(bytes, records: count, of: file, variant: variant)
            bytes.withUnsafeBytes { raw in
                images.withUnsafeMutableBufferPointer { output in
                    let source = raw.bindMemory(to: UInt8.self)
                    for record in 0..<count {
                        let start = record * recordSize
                        classIndices[first + record] = Int32(source[start + labelOffset])
                        let pixels = start + variant.labelBytes
                        let base = (first + record) * pixelBytes
                        // Planes R, G, B of `plane` bytes each become interleaved pixels (r, g, b).
                        for i in 0..<plane {
                            for c in 0..<channels {
                                output[base + i * channels + c] = table[c * 256 + Int(source[pixels + c * plane + i])]
                            }
                        }
                    }
                }
            }
            first += count
        }

        let name = variant == .cifar10 ? "cifar-10" : labels == .fine ? "cifar-100" : "cifar-100-coarse"
        return Dataset(
            name: "\(name)/\(split.rawValue)", images: images, labels: classIndices,
            height: side, width: side, channels: channels, classes: variant.classes(labels))
    }

    /// The URLs of `names` in `directory`, or else in its archive subdirectory; the error lists
    /// every file looked for and which are missing.
    static func locate(_ names: [String], variant: Variant, split: DataSplit, in directory: URL) throws(FileError) -> [URL] {
        let candidates = [directory, directory.appendingPathComponent(variant.archiveDirectory)]
        func missing(in folder: URL) -> [String] {
            names.filter { !FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
        }
        let absent = candidates.map(missing)
        if let found = absent.firstIndex(where: \.isEmpty) {
            return names.map { candidates[found].appendingPathComponent($0) }
        }
        // Report against the folder holding more of the files: that is where the user put the data.
        let closest = absent[1].count < absent[0].count ? 1 : 0
        throw FileError(
            file: candidates[closest].appendingPathComponent(absent[closest][0]).path,
            problem: "no such file; \(variant.displayName) \(split.rawValue) needs \(names.joined(separator: ", ")) in \(directory.path) or its \(variant.archiveDirectory) subdirectory; missing \(absent[closest].joined(separator: ", "))")
    }

    /// The size of `file` in bytes, from its end offset, so that nothing is read yet.
    static func fileSize(_ file: URL) throws(FileError) -> Int {
        do {
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            let end = try handle.seekToEnd()
            // Anything past the limit is reported as such without converting a huge UInt64.
            return Int(min(end, UInt64(maximumFileSize) + 1))
        } catch {
            throw FileError(file: file.path, problem: "cannot open (\(error.localizedDescription))")
        }
    }

    /// The whole of `file`, whose size has been checked.
    static func read(_ file: URL) throws(FileError) -> Data {
        do {
            return try Data(contentsOf: file)
        } catch {
            throw FileError(file: file.path, problem: "cannot read (\(error.localizedDescription))")
        }
    }

    /// The number of records in a file of `byteCount` bytes; a file that is empty, too large or not
    /// a whole number of records is an error.
    static func recordCount(byteCount: Int, of file: URL, variant: Variant) throws(FileError) -> Int {
        let recordSize = variant.recordSize
        guard byteCount > 0 else { throw FileError(file: file.path, problem: "file is empty") }
        guard byteCount <= maximumFileSize else {
            throw FileError(file: file.path, problem: "file is over the \(maximumFileSize)-byte limit, too large for \(variant.displayName)")
        }
        guard byteCount % recordSize == 0 else {
            let layout = variant == .cifar10 ? "1 label byte" : "2 label bytes"
            throw FileError(file: file.path, problem: "size \(byteCount) bytes is not a multiple of the \(recordSize)-byte \(variant.displayName) record (\(layout) + \(pixelBytes) pixel bytes)")
        }
        return byteCount / recordSize
    }

    /// Checks every label byte of the first `records` records: CIFAR-10's label below 10,
    /// CIFAR-100's coarse label below 20 and fine label below 100.
    static func checkLabels(_ bytes: Data, records: Int, of file: URL, variant: Variant) throws(FileError) {
        let kinds: [(offset: Int, name: String, classes: Int)] = variant == .cifar10
            ? [(0, "label", 10)]
            : [(0, "coarse label", 20), (1, "fine label", 100)]
        for record in 0..<records {
            for kind in kinds {
                let label = bytes[bytes.startIndex + record * variant.recordSize + kind.offset]
                guard Int(label) < kind.classes else {
                    throw FileError(file: file.path, problem: "\(kind.name) \(label) in record \(record) is not in 0..<\(kind.classes)")
                }
            }
        }
    }
}

/// Which of CIFAR-100's two labellings to use: the 100 fine classes, or the 20 coarse superclasses
/// they are grouped into.
public enum CIFAR100Labels: String, Sendable, CaseIterable {
    case fine, coarse
}
