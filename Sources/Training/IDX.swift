import CZlib
import Foundation
import LandscapeCore

/// An IDX file (LeCun's MNIST format) of unsigned bytes, read whole into memory.
///
/// Layout: magic bytes `0x00 0x00 type ndim`, then `ndim` big-endian `UInt32` dimensions, then the
/// `d0 * d1 * ...` elements in row-major order. Only type `0x08` (unsigned byte) is accepted, which
/// is what image and label files use. Reading goes through zlib's `gz*` functions, which decompress
/// gzip files and pass plain files through unchanged, so both `.gz` and uncompressed files work.
public struct IDXFile: Sendable {
    /// The largest data section accepted, 2^31 bytes: well above any image data set held in memory
    /// here, and low enough that a corrupt header cannot make the reader grow an enormous array.
    public static let maximumByteCount = 1 << 31

    /// The dimensions from the header, outermost first.
    public let dimensions: [Int]
    /// The elements, row-major; `bytes.count` is the product of `dimensions`.
    public let bytes: [UInt8]

    /// Reads and validates the IDX file at `url` (gzip-compressed or not); bytes after the data
    /// the header describes are ignored.
    public init(contentsOf url: URL) throws(FileError) {
        let path = url.path
        func fail(_ problem: String) -> FileError { FileError(file: path, problem: problem) }

        // gzopen would also report a missing file, but only as a bare errno; say it plainly.
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no such file") }
        guard let file = gzopen(path, "rb") else {
            throw fail("cannot open (\(String(cString: strerror(errno))))")
        }
        defer { gzclose(file) }

        let magic = try Self.read(4, from: file, fail: fail)
        guard magic.count == 4 else {
            throw fail("file is \(magic.count) bytes, too short for the 4-byte IDX magic")
        }
        guard magic[0] == 0, magic[1] == 0 else {
            throw fail("bad magic 0x\(magic.map(hex).joined()), not an IDX file")
        }
        guard magic[2] == 0x08 else {
            throw fail("element type 0x\(hex(magic[2])) is not unsigned byte (0x08)")
        }
        let rank = Int(magic[3])
        guard rank > 0 else { throw fail("header declares no dimensions") }

        let header = try Self.read(4 * rank, from: file, fail: fail)
        guard header.count == 4 * rank else {
            throw fail("truncated header: \(rank) dimensions need \(4 * rank) bytes after the magic, found \(header.count)")
        }
        let dimensions = (0..<rank).map { i in
            header[4 * i ..< 4 * i + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        var count = 1
        for dimension in dimensions {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("dimensions \(dimensions) overflow the element count") }
            count = product
        }
        guard count <= Self.maximumByteCount else {
            throw fail("dimensions \(dimensions) describe \(count) bytes, over the \(Self.maximumByteCount)-byte limit")
        }

        let bytes = try Self.read(count, from: file, fail: fail)
        guard bytes.count == count else {
            var code: Int32 = Z_OK
            _ = gzerror(file, &code)
            let cause = code == Z_BUF_ERROR ? "gzip stream ends early" : "file ends early"
            throw fail("truncated: dimensions \(dimensions) need \(count) data bytes, found \(bytes.count) (\(cause))")
        }
        self.dimensions = dimensions
        self.bytes = bytes
    }

    /// Reads up to `count` bytes, fewer only at the end of the input. The result grows chunk by chunk
    /// as data actually arrives, so a header that overstates the size costs no memory up front.
    private static func read(_ count: Int, from file: gzFile, fail: (String) -> FileError) throws(FileError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(count, 1 << 20))
        while result.count < count {
            let wanted = min(count - result.count, chunk.count)
            let got = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(wanted)) }
            if got < 0 {
                var code: Int32 = Z_OK
                let message = String(cString: gzerror(file, &code))
                throw fail("read error (\(message))")
            }
            if got == 0 { break }
            result.append(contentsOf: chunk[..<Int(got)])
        }
        return result
    }
}

/// Two lowercase hexadecimal digits.
private func hex(_ byte: UInt8) -> String {
    (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
}
