import CPNG
import CZlib
import Foundation
import LandscapeCore

/// An 8-bit RGB image, encoded and decoded with libpng's simplified `png_image` API, which reports
/// failure by a status (the classic API's longjmp would skip Swift's cleanup).
public struct PNGImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// Row-major RGB bytes, top row first: `3 * width * height` of them.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == 3 * width * height, "PNGImage: \(pixels.count) bytes for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The colour of pixel (x, y), y counted from the top.
    public func pixel(_ x: Int, _ y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        let offset = 3 * (y * width + x)
        return (pixels[offset], pixels[offset + 1], pixels[offset + 2])
    }

    /// The PNG file's bytes, with a tEXt chunk for every entry of `text` (keyword: value, both
    /// Latin-1; keywords 1 to 79 characters) after the header chunk.
    public func encoded(text: [(keyword: String, value: String)] = []) throws(FileError) -> [UInt8] {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = png_uint_32(PNG_FORMAT_RGB)
        var size = 0
        let stride = png_int_32(3 * width)
        let measured = pixels.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, stride, nil) }
        guard measured != 0, size > 0 else { throw FileError(file: "PNG", problem: Self.message(of: image)) }
        var bytes = [UInt8](repeating: 0, count: size)
        let written = pixels.withUnsafeBytes { source in
            bytes.withUnsafeMutableBytes { png_image_write_to_memory(&image, $0.baseAddress, &size, 0, source.baseAddress, stride, nil) }
        }
        guard written != 0 else { throw FileError(file: "PNG", problem: Self.message(of: image)) }
        return Self.inserting(text, into: Array(bytes.prefix(size)))
    }

    /// Writes the PNG to `url` atomically (a temporary file renamed into place).
    public func write(to url: URL, text: [(keyword: String, value: String)] = []) throws(FileError) {
        let bytes: [UInt8]
        do { bytes = try encoded(text: text) } catch { throw FileError(file: url.path, problem: error.problem) }
        do { try Data(bytes).write(to: url, options: .atomic) } catch {
            throw FileError(file: url.path, problem: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads a PNG file of any colour type and bit depth, converted to 8-bit RGB (transparency is
    /// composited on white).
    public static func read(_ url: URL) throws(FileError) -> PNGImage {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw FileError(file: url.path, problem: "cannot read: \(error.localizedDescription)") }
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        let begun = data.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw FileError(file: url.path, problem: "not a readable PNG: \(message(of: image))") }
        defer { png_image_free(&image) }
        let (width, height) = (Int(image.width), Int(image.height))
        guard width > 0, height > 0, width * height <= 1 << 28 else {
            throw FileError(file: url.path, problem: "implausible PNG size \(width)x\(height)")
        }
        image.format = png_uint_32(PNG_FORMAT_RGB)
        var pixels = [UInt8](repeating: 0, count: 3 * width * height)
        var white = png_color(red: 255, green: 255, blue: 255)
        let finished = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, &white, $0.baseAddress, png_int_32(3 * width), nil) }
        guard finished != 0 else { throw FileError(file: url.path, problem: "cannot decode the PNG: \(message(of: image))") }
        return PNGImage(width: width, height: height, pixels: pixels)
    }

    /// The tEXt chunks of a PNG file's bytes, in file order.
    public static func textChunks(of bytes: [UInt8]) -> [(keyword: String, value: String)] {
        var chunks: [(String, String)] = []
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            guard offset + 12 + length <= bytes.count else { break }
            if type == "tEXt" {
                let body = bytes[offset + 8..<offset + 8 + length]
                if let zero = body.firstIndex(of: 0) {
                    chunks.append((latin1(body[..<zero]), latin1(body[(zero + 1)...])))
                }
            }
            offset += 12 + length
        }
        return chunks
    }

    private static func latin1(_ bytes: ArraySlice<UInt8>) -> String { String(bytes.map { Character(Unicode.Scalar($0)) }) }

    /// `png` with tEXt chunks inserted right after IHDR (which is always the first chunk and 25
    /// bytes long with its signature-relative framing).
    private static func inserting(_ text: [(keyword: String, value: String)], into png: [UInt8]) -> [UInt8] {
        guard !text.isEmpty else { return png }
        let afterHeader = 8 + 12 + 13
        var result = Array(png[..<afterHeader])
        for (keyword, value) in text {
            let body = latin1Bytes(String(keyword.prefix(79))) + [0] + latin1Bytes(value)
            let typeAndBody = Array("tEXt".utf8) + body
            let crc = typeAndBody.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            result += bigEndian(UInt32(body.count)) + typeAndBody + bigEndian(crc)
        }
        return result + png[afterHeader...]
    }

    /// Latin-1 bytes of `string`; characters outside Latin-1 become '?'.
    private static func latin1Bytes(_ string: String) -> [UInt8] {
        string.unicodeScalars.map { $0.value < 256 && $0.value != 0 ? UInt8($0.value) : UInt8(ascii: "?") }
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

    private static func message(of image: png_image) -> String {
        withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
