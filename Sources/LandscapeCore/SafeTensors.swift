import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An element type a safetensors file can declare; the raw value is the name used in the header.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", f64 = "F64", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", u8 = "U8"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .u8: 1
        }
    }
}

/// One tensor's entry in a safetensors header.
public struct SafeTensorsEntry: Sendable, Equatable {
    /// The tensor's name (the header key).
    public let name: String
    /// The element type.
    public let dtype: SafeTensorsDType
    /// The dimensions, outermost first; `[]` is a scalar.
    public let shape: [Int]
    /// Where the elements lie, in bytes, relative to the start of the data section.
    public let byteRange: Range<Int>

    /// The number of elements, the product of `shape` (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file read whole into memory and validated.
///
/// Layout: an 8-byte little-endian `UInt64` header length `N`, then `N` bytes of UTF-8 JSON mapping
/// each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the
/// data section) plus an optional `"__metadata__"` object of strings, then the little-endian data.
/// Every header field is checked against the bytes actually present before it is used, so a corrupt
/// or hostile file produces a `FileError`, never a crash or an outsized allocation.
public struct SafeTensorsFile: Sendable {
    /// The largest header accepted, as in the reference implementation: a header beyond this is
    /// corruption, and parsing it would cost more memory than any real model's header needs.
    public static let maximumHeaderLength = 100_000_000

    /// Where the file was read from (for `init(data:source:)`, a file URL made from `source`).
    public let url: URL
    /// The string pairs of the header's `"__metadata__"` object, unknown keys included.
    public let metadata: [String: String]
    /// The tensors, sorted by name so that iteration order does not depend on the JSON parser.
    public let entries: [SafeTensorsEntry]

    /// How errors name the file: its path, or the name given to `init(data:source:)`.
    public let source: String
    private let contents: Data
    private let dataStart: Int
    private let index: [String: Int]

    /// Reads and validates the file at `url`.
    public init(contentsOf url: URL) throws(FileError) {
        let contents: Data
        do {
            contents = try Data(contentsOf: url)
        } catch {
            throw FileError(file: url.path, problem: "cannot read file (\(error.localizedDescription))")
        }
        try self.init(data: contents, url: url, source: url.path)
    }

    /// Validates the bytes of a safetensors file held in memory; `source` names the file in errors.
    public init(data: Data, source: String) throws(FileError) {
        try self.init(data: data, url: URL(fileURLWithPath: source), source: source)
    }

    private init(data: Data, url: URL, source: String) throws(FileError) {
        func fail(_ problem: String) -> FileError { FileError(file: source, problem: problem) }

        guard data.count >= 8 else {
            throw fail("file is \(data.count) bytes, shorter than the 8-byte header length")
        }
        let declared = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        let available = data.count - 8
        // Both bounds are checked on the UInt64 before it becomes an Int or sizes anything.
        guard declared <= UInt64(available) else {
            throw fail("header length \(declared) runs past the end of the file (\(available) bytes follow the length)")
        }
        guard declared <= UInt64(Self.maximumHeaderLength) else {
            throw fail("header length \(declared) exceeds the \(Self.maximumHeaderLength)-byte limit")
        }
        let headerLength = Int(declared)
        let dataStart = 8 + headerLength
        let dataLength = data.count - dataStart

        let headerBytes = data.withUnsafeBytes { Data($0[8..<dataStart]) }
        // JSONSerialization would also accept UTF-16 and UTF-32; the format allows only UTF-8.
        guard String(data: headerBytes, encoding: .utf8) != nil else {
            throw fail("header is not valid UTF-8")
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw fail("header is not valid JSON")
        }
        guard let header = parsed as? [String: Any] else {
            throw fail("header is not a JSON object")
        }

        var metadata: [String: String] = [:]
        var entries: [SafeTensorsEntry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let object = value as? [String: Any] else {
                    throw fail("__metadata__ is not a JSON object")
                }
                for (key, item) in object {
                    guard let string = item as? String else {
                        throw fail("__metadata__ value for '\(key)' is not a string")
                    }
                    metadata[key] = string
                }
            } else {
                entries.append(try Self.entry(name: name, json: value, dataLength: dataLength, fail: fail))
            }
        }

        // Empty tensors occupy no bytes, so they cannot overlap anything.
        let byBegin = entries.filter { !$0.byteRange.isEmpty }.sorted { ($0.byteRange.lowerBound, $0.byteRange.upperBound) < ($1.byteRange.lowerBound, $1.byteRange.upperBound) }
        for (previous, next) in zip(byBegin, byBegin.dropFirst()) where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw fail("tensors '\(previous.name)' (bytes \(previous.byteRange)) and '\(next.name)' (bytes \(next.byteRange)) overlap")
        }

        entries.sort { $0.name < $1.name }
        self.url = url
        self.metadata = metadata
        self.entries = entries
        self.source = source
        self.contents = data
        self.dataStart = dataStart
        self.index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    /// Parses and checks one tensor's header value against a data section of `dataLength` bytes.
    private static func entry(
        name: String, json: Any, dataLength: Int, fail: (String) -> FileError
    ) throws(FileError) -> SafeTensorsEntry {
        guard let object = json as? [String: Any] else {
            throw fail("tensor '\(name)' is not a JSON object")
        }
        guard let dtypeName = object["dtype"] as? String else {
            throw fail("tensor '\(name)' has no string \"dtype\"")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw fail("tensor '\(name)' has unknown dtype '\(dtypeName)'")
        }
        guard let shapeJSON = object["shape"] as? [Any] else {
            throw fail("tensor '\(name)' has no array \"shape\"")
        }
        var shape: [Int] = []
        var count = 1
        for dimJSON in shapeJSON {
            guard let dim = JSONInteger.value(dimJSON), dim >= 0 else {
                throw fail("tensor '\(name)' has shape dimension \(dimJSON), not a non-negative integer")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else {
                throw fail("tensor '\(name)' has shape \(shapeJSON) whose element count overflows")
            }
            shape.append(dim)
            count = product
        }
        guard let offsetsJSON = object["data_offsets"] as? [Any], offsetsJSON.count == 2,
              let begin = JSONInteger.value(offsetsJSON[0]), let end = JSONInteger.value(offsetsJSON[1])
        else {
            throw fail("tensor '\(name)' has no \"data_offsets\" pair of integers")
        }
        guard 0 <= begin, begin <= end else {
            throw fail("tensor '\(name)' has data_offsets [\(begin), \(end)] with begin after end or negative")
        }
        guard end <= dataLength else {
            throw fail("tensor '\(name)' has data_offsets [\(begin), \(end)] past the end of the \(dataLength)-byte data section")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes == end - begin else {
            throw fail("tensor '\(name)' spans \(end - begin) bytes but \(count) elements of \(dtype.rawValue) need \(overflow ? "more than Int.max" : String(bytes))")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// The entry named `name`, or nil.
    public func entry(_ name: String) -> SafeTensorsEntry? {
        index[name].map { entries[$0] }
    }

    /// The elements of tensor `name` as `Float`; F32, F64, F16 and BF16 convert (F64 rounds to nearest).
    public func floats(_ name: String) throws(FileError) -> [Float] {
        let entry = try lookup(name)
        switch entry.dtype {
        case .f32: return elements(entry, as: UInt32.self) { Float(bitPattern: $0) }
        case .f64: return elements(entry, as: UInt64.self) { Float(Double(bitPattern: $0)) }
        case .f16: return elements(entry, as: UInt16.self) { Float(Float16(bitPattern: $0)) }
        case .bf16: return elements(entry, as: UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
        case .i64, .i32, .u8: throw notConvertible(entry, to: "floats")
        }
    }

    /// The elements of tensor `name` as `Double`; F32, F64, F16 and BF16 convert exactly.
    public func doubles(_ name: String) throws(FileError) -> [Double] {
        let entry = try lookup(name)
        switch entry.dtype {
        case .f32: return elements(entry, as: UInt32.self) { Double(Float(bitPattern: $0)) }
        case .f64: return elements(entry, as: UInt64.self) { Double(bitPattern: $0) }
        case .f16: return elements(entry, as: UInt16.self) { Double(Float16(bitPattern: $0)) }
        case .bf16: return elements(entry, as: UInt16.self) { Double(Float(bitPattern: UInt32($0) << 16)) }
        case .i64, .i32, .u8: throw notConvertible(entry, to: "doubles")
        }
    }

    /// The elements of tensor `name` as `Int64`; I64, I32 (sign-extended) and U8 convert.
    public func integers(_ name: String) throws(FileError) -> [Int64] {
        let entry = try lookup(name)
        switch entry.dtype {
        case .i64: return elements(entry, as: UInt64.self) { Int64(bitPattern: $0) }
        case .i32: return elements(entry, as: UInt32.self) { Int64(Int32(bitPattern: $0)) }
        case .u8: return elements(entry, as: UInt8.self) { Int64($0) }
        case .f32, .f64, .f16, .bf16: throw notConvertible(entry, to: "integers")
        }
    }

    private func lookup(_ name: String) throws(FileError) -> SafeTensorsEntry {
        guard let entry = entry(name) else {
            throw FileError(file: source, problem: "no tensor named '\(name)'")
        }
        return entry
    }

    private func notConvertible(_ entry: SafeTensorsEntry, to kind: String) -> FileError {
        FileError(file: source, problem: "tensor '\(entry.name)' has dtype \(entry.dtype.rawValue), which cannot be read as \(kind)")
    }

    /// Decodes the entry's little-endian elements; the data section need not be aligned for `Raw`.
    private func elements<Raw: FixedWidthInteger, Element>(
        _ entry: SafeTensorsEntry, as _: Raw.Type, _ convert: (Raw) -> Element
    ) -> [Element] {
        let start = dataStart + entry.byteRange.lowerBound
        let stride = MemoryLayout<Raw>.size
        return contents.withUnsafeBytes { raw in
            (0..<entry.elementCount).map { i in
                convert(Raw(littleEndian: raw.loadUnaligned(fromByteOffset: start + i * stride, as: Raw.self)))
            }
        }
    }
}

/// A tensor to write to a safetensors file.
public struct SafeTensorsTensor: Sendable {
    /// The elements, row-major; the case decides the dtype written.
    public enum Payload: Sendable {
        /// Written as F32.
        case f32([Float])
        /// Written as I64.
        case i64([Int64])
    }

    /// The header key; must be unique and not `__metadata__`.
    public let name: String
    /// The dimensions, outermost first; their product must equal the payload's element count.
    public let shape: [Int]
    /// The elements.
    public let payload: Payload

    public init(name: String, shape: [Int], payload: Payload) {
        self.name = name
        self.shape = shape
        self.payload = payload
    }

    /// An F32 tensor.
    public init(name: String, shape: [Int], floats: [Float]) {
        self.init(name: name, shape: shape, payload: .f32(floats))
    }

    /// An I64 tensor.
    public init(name: String, shape: [Int], integers: [Int64]) {
        self.init(name: name, shape: shape, payload: .i64(integers))
    }

    fileprivate var dtype: SafeTensorsDType {
        switch payload {
        case .f32: .f32
        case .i64: .i64
        }
    }

    fileprivate var elementCount: Int {
        switch payload {
        case .f32(let values): values.count
        case .i64(let values): values.count
        }
    }
}

/// Produces safetensors files that the reference (Python/Rust) implementation reads.
public enum SafeTensorsWriter {
    /// Writes `tensors` and `metadata` to `url` atomically: the bytes go to a temporary file in the
    /// same directory, which is fsynced and then renamed over the destination, so a reader (or a
    /// crash) sees either the old file or the complete new one, never a partial file.
    public static func write(_ tensors: [SafeTensorsTensor], metadata: [String: String], to url: URL) throws(FileError) {
        let path = url.path
        func fail(_ problem: String) -> FileError { FileError(file: path, problem: problem) }
        func systemError(_ action: String) -> FileError { fail("\(action): \(String(cString: strerror(errno)))") }

        let bytes: Data
        do {
            bytes = try encode(tensors, metadata: metadata)
        } catch {
            throw fail(error.problem)
        }
        let directory = url.deletingLastPathComponent().path
        // Same directory, because rename(2) is atomic only within one file system.
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw systemError("cannot create temporary file in \(directory)") }
        guard writeAll(bytes, to: fd) else {
            let error = systemError("cannot write temporary file")
            close(fd)
            unlink(temporary)
            throw error
        }
        guard fsync(fd) == 0 else {
            let error = systemError("cannot fsync temporary file")
            close(fd)
            unlink(temporary)
            throw error
        }
        guard close(fd) == 0 else {
            let error = systemError("cannot close temporary file")
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = systemError("cannot rename temporary file over destination")
            unlink(temporary)
            throw error
        }
        // The rename itself is durable only once the directory entry is flushed.
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// The bytes of a safetensors file holding `tensors` and `metadata`.
    ///
    /// Tensors are laid out contiguously in name order. The header is padded with spaces to a multiple
    /// of 8 bytes, as the reference writer does, so the data section starts 8-byte aligned.
    public static func encode(_ tensors: [SafeTensorsTensor], metadata: [String: String]) throws(FileError) -> Data {
        func fail(_ problem: String) -> FileError { FileError(file: "<encoded safetensors>", problem: problem) }

        let sorted = tensors.sorted { $0.name < $1.name }
        var header: [String: Any] = [:]
        if !metadata.isEmpty {
            header["__metadata__"] = metadata
        }
        var offset = 0
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.name == next.name {
            throw fail("two tensors are named '\(next.name)'")
        }
        for tensor in sorted {
            guard tensor.name != "__metadata__" else {
                throw fail("a tensor cannot be named '__metadata__'")
            }
            guard tensor.shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor '\(tensor.name)' has a negative dimension in shape \(tensor.shape)")
            }
            var count = 1
            for dim in tensor.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dim)
                guard !overflow else { throw fail("tensor '\(tensor.name)' has shape \(tensor.shape) whose element count overflows") }
                count = product
            }
            guard count == tensor.elementCount else {
                throw fail("tensor '\(tensor.name)' has shape \(tensor.shape) (\(count) elements) but \(tensor.elementCount) values")
            }
            let end = offset + count * tensor.dtype.byteSize
            header[tensor.name] = [
                "dtype": tensor.dtype.rawValue,
                "shape": tensor.shape,
                "data_offsets": [offset, end],
            ] as [String: Any]
            offset = end
        }

        var json: Data
        do {
            json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw fail("cannot encode header as JSON")
        }
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))

        var output = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { output.append(contentsOf: $0) }
        output.append(json)
        for tensor in sorted {
            switch tensor.payload {
            case .f32(let values):
                for value in values {
                    withUnsafeBytes(of: value.bitPattern.littleEndian) { output.append(contentsOf: $0) }
                }
            case .i64(let values):
                for value in values {
                    withUnsafeBytes(of: value.littleEndian) { output.append(contentsOf: $0) }
                }
            }
        }
        return output
    }
}

/// Writes all of `bytes` to `fd`, retrying short writes and interrupted calls; false on any other error
/// (with `errno` set). At file scope so that `write` means the system call, not the writer's method.
private func writeAll(_ bytes: Data, to fd: Int32) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var written = 0
        while written < buffer.count {
            let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            written += n
        }
        return true
    }
}
