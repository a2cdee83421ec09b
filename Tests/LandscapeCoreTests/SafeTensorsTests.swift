import Foundation
import Testing
import LandscapeCore

/// The bytes of a safetensors file with the given header JSON and data section, laid out as the
/// reference writer does: the header padded with spaces to a multiple of 8 bytes.
private func safetensorsBytes(header: String, data: [UInt8], pad: Bool = true) -> Data {
    var json = Array(header.utf8)
    if pad {
        json += Array(repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8)
    }
    var bytes = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: json)
    bytes.append(contentsOf: data)
    return bytes
}

/// The little-endian bytes of each value.
private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

/// The error message from validating `data`, or nil if it is accepted.
private func loadError(_ data: Data) -> FileError? {
    do {
        _ = try SafeTensorsFile(data: data, source: "bad.safetensors")
        return nil
    } catch {
        return error
    }
}

/// Checks that `data` is rejected with a one-line message naming the file and containing `fragments`.
private func expectRejected(_ data: Data, mentioning fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) throws {
    let error = try #require(loadError(data), sourceLocation: sourceLocation)
    #expect(error.file == "bad.safetensors", sourceLocation: sourceLocation)
    #expect(error.description.hasPrefix("bad.safetensors: "), sourceLocation: sourceLocation)
    #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(error.problem.contains(fragment), "\(error.problem) should mention \(fragment)", sourceLocation: sourceLocation)
    }
}

/// A fresh directory under the system temporary directory, removed by the caller.
private func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct SafeTensorsTests {
    // MARK: - Round trips

    @Test func roundTripIsBitExact() throws {
        let floats: [Float] = [0, -0.0, 1.5, -3.25, .pi, .infinity, -.infinity, .leastNonzeroMagnitude,
                               .greatestFiniteMagnitude, Float(bitPattern: 0x7FC0_1234)]
        let integers: [Int64] = [0, 1, -1, .max, .min, 42]
        let metadata = ["format": "pt", "step": "1200", "note": "quote \" slash / unicode é"]
        let tensors = [
            SafeTensorsTensor(name: "weight", shape: [2, 5], floats: floats),
            SafeTensorsTensor(name: "indices", shape: [3, 2], integers: integers),
            SafeTensorsTensor(name: "scalar", shape: [], floats: [7]),
            SafeTensorsTensor(name: "empty", shape: [0, 4], floats: []),
        ]

        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        try SafeTensorsWriter.write(tensors, metadata: metadata, to: url)
        let file = try SafeTensorsFile(contentsOf: url)

        #expect(file.url == url)
        #expect(file.metadata == metadata)
        #expect(file.entries.map(\.name) == ["empty", "indices", "scalar", "weight"])
        let weight = try #require(file.entry("weight"))
        #expect(weight.dtype == .f32)
        #expect(weight.shape == [2, 5])
        #expect(weight.elementCount == 10)
        #expect(try file.floats("weight").map(\.bitPattern) == floats.map(\.bitPattern))
        #expect(try file.integers("indices") == integers)
        #expect(try file.floats("scalar") == [7])
        #expect(file.entry("scalar")?.shape == [])
        #expect(try file.floats("empty") == [])
        #expect(file.entry("empty")?.elementCount == 0)
    }

    @Test func encodingLaysTensorsOutInNameOrderWithAlignedData() throws {
        let bytes = try SafeTensorsWriter.encode(
            [SafeTensorsTensor(name: "b", shape: [1], floats: [2]), SafeTensorsTensor(name: "a", shape: [3], floats: [1, 1, 1])],
            metadata: [:])
        let headerLength = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(headerLength % 8 == 0)
        #expect(bytes.count == 8 + headerLength + 16)
        let file = try SafeTensorsFile(data: bytes, source: "encoded")
        #expect(file.entry("a")?.byteRange == 0..<12)
        #expect(file.entry("b")?.byteRange == 12..<16)
        #expect(file.metadata.isEmpty)
    }

    @Test func encodingRejectsShapeMismatchAndDuplicateNames() {
        #expect(throws: FileError.self) {
            try SafeTensorsWriter.encode([SafeTensorsTensor(name: "x", shape: [2, 2], floats: [1, 2, 3])], metadata: [:])
        }
        #expect(throws: FileError.self) {
            try SafeTensorsWriter.encode(
                [SafeTensorsTensor(name: "x", shape: [1], floats: [1]), SafeTensorsTensor(name: "x", shape: [1], integers: [1])],
                metadata: [:])
        }
        #expect(throws: FileError.self) {
            try SafeTensorsWriter.encode([SafeTensorsTensor(name: "__metadata__", shape: [1], floats: [1])], metadata: [:])
        }
    }

    /// Bytes as `safetensors.torch.save_file({"weight": ..., "bias": ...}, metadata={"format": "pt"})`
    /// lays them out: compact JSON with `__metadata__` first, space padding to 8 bytes, F32 data.
    @Test func readsFileInReferenceLayout() throws {
        let header = #"{"__metadata__":{"format":"pt"},"bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"# +
            #""weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}}"#
        let bias: [Float] = [0.5, -0.25]
        let weight: [Float] = [1, 2, 3, 4]
        let bytes = safetensorsBytes(header: header, data: littleEndianBytes((bias + weight).map(\.bitPattern)))
        #expect((bytes.count - 24) % 8 == 0)

        let file = try SafeTensorsFile(data: bytes, source: "reference.safetensors")
        #expect(file.metadata == ["format": "pt"])
        #expect(file.entries.map(\.name) == ["bias", "weight"])
        #expect(file.entry("weight")?.shape == [2, 2])
        #expect(file.entry("weight")?.byteRange == 8..<24)
        #expect(try file.floats("bias") == bias)
        #expect(try file.floats("weight") == weight)
        #expect(try file.doubles("weight") == [1, 2, 3, 4])
    }

    @Test func keepsUnknownMetadataKeys() throws {
        let bytes = safetensorsBytes(header: #"{"__metadata__":{"format":"pt","anything":"else"}}"#, data: [])
        let file = try SafeTensorsFile(data: bytes, source: "m")
        #expect(file.metadata == ["format": "pt", "anything": "else"])
        #expect(file.entries.isEmpty)
    }

    // MARK: - Conversions

    @Test func convertsF64() throws {
        let values: [Double] = [0.1, -2.5, 1e300]
        let bytes = safetensorsBytes(
            header: #"{"x":{"dtype":"F64","shape":[3],"data_offsets":[0,24]}}"#,
            data: littleEndianBytes(values.map(\.bitPattern)))
        let file = try SafeTensorsFile(data: bytes, source: "f64")
        #expect(try file.doubles("x") == values)
        #expect(try file.floats("x") == [Float(0.1), -2.5, .infinity])
    }

    @Test(arguments: [
        (UInt16(0x3C00), 1.0), (0xC000, -2.0), (0x3555, 0.333251953125), (0x7BFF, 65504.0),
        (0x0001, 0x1p-24), (0x8000, -0.0), (0x7C00, Double.infinity),
    ] as [(UInt16, Double)])
    func convertsF16(bits: UInt16, expected: Double) throws {
        let bytes = safetensorsBytes(
            header: #"{"h":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}"#, data: littleEndianBytes([bits]))
        let file = try SafeTensorsFile(data: bytes, source: "f16")
        #expect(try file.doubles("h") == [expected])
        #expect(try file.floats("h").map(\.bitPattern) == [Float(expected).bitPattern])
    }

    @Test(arguments: [
        (UInt16(0x3F80), 1.0), (0xC040, -3.0), (0x4049, 3.140625), (0x7F80, Double.infinity), (0x0001, 0x1p-133),
    ] as [(UInt16, Double)])
    func convertsBF16(bits: UInt16, expected: Double) throws {
        let bytes = safetensorsBytes(
            header: #"{"b":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#, data: littleEndianBytes([bits]))
        let file = try SafeTensorsFile(data: bytes, source: "bf16")
        #expect(try file.doubles("b") == [expected])
        #expect(try file.floats("b") == [Float(expected)])
    }

    @Test func convertsI32AndU8() throws {
        let header = #"{"i":{"dtype":"I32","shape":[3],"data_offsets":[0,12]},"u":{"dtype":"U8","shape":[3],"data_offsets":[12,15]}}"#
        let bytes = safetensorsBytes(header: header, data: littleEndianBytes([Int32(-1), .max, 7]) + [0, 200, 255])
        let file = try SafeTensorsFile(data: bytes, source: "ints")
        #expect(try file.integers("i") == [-1, Int64(Int32.max), 7])
        #expect(try file.integers("u") == [0, 200, 255])
    }

    @Test func rejectsConversionBetweenIntegerAndFloat() throws {
        let header = #"{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"f":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        let file = try SafeTensorsFile(data: safetensorsBytes(header: header, data: Array(repeating: 0, count: 12)), source: "mixed")
        #expect(throws: FileError(file: "mixed", problem: "tensor 'i' has dtype I64, which cannot be read as floats")) {
            try file.floats("i")
        }
        #expect(throws: FileError(file: "mixed", problem: "tensor 'i' has dtype I64, which cannot be read as doubles")) {
            try file.doubles("i")
        }
        #expect(throws: FileError(file: "mixed", problem: "tensor 'f' has dtype F32, which cannot be read as integers")) {
            try file.integers("f")
        }
    }

    // MARK: - Bad files

    @Test func rejectsTruncatedFile() throws {
        try expectRejected(Data([1, 0, 0]), mentioning: "3 bytes", "shorter than")
        try expectRejected(Data(), mentioning: "0 bytes")
    }

    @Test func rejectsHeaderLengthPastEnd() throws {
        var bytes = Data()
        withUnsafeBytes(of: UInt64.max.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array("{}".utf8))
        try expectRejected(bytes, mentioning: "header length 18446744073709551615", "past the end")

        let honest = safetensorsBytes(header: "{}", data: [])
        try expectRejected(honest.dropLast(), mentioning: "header length 8", "past the end")
    }

    @Test func rejectsOffsetsOutsideData() throws {
        let bytes = safetensorsBytes(
            header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0])
        try expectRejected(bytes, mentioning: "'x'", "past the end", "4-byte data section")
    }

    @Test func rejectsBeginAfterEnd() throws {
        let bytes = safetensorsBytes(
            header: #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, data: Array(repeating: 0, count: 8))
        try expectRejected(bytes, mentioning: "'x'", "begin after end")
    }

    @Test func rejectsOverlappingTensors() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        try expectRejected(safetensorsBytes(header: header, data: Array(repeating: 0, count: 12)), mentioning: "'a'", "'b'", "overlap")
    }

    @Test func rejectsByteCountMismatch() throws {
        let bytes = safetensorsBytes(
            header: #"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 12))
        try expectRejected(bytes, mentioning: "'x'", "spans 8 bytes", "3 elements of F32 need 12")
    }

    @Test func rejectsUnknownDType() throws {
        let bytes = safetensorsBytes(
            header: #"{"x":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: [0])
        try expectRejected(bytes, mentioning: "unknown dtype", "F8_E4M3")
    }

    @Test func rejectsMissingName() throws {
        let file = try SafeTensorsFile(data: safetensorsBytes(header: "{}", data: []), source: "empty.safetensors")
        #expect(file.entry("x") == nil)
        #expect(throws: FileError(file: "empty.safetensors", problem: "no tensor named 'x'")) { try file.floats("x") }
        #expect(throws: FileError(file: "empty.safetensors", problem: "no tensor named 'x'")) { try file.integers("x") }
    }

    @Test func rejectsBadJSON() throws {
        try expectRejected(safetensorsBytes(header: #"{"x": {"#, data: []), mentioning: "not valid JSON")
        try expectRejected(safetensorsBytes(header: "[1, 2]", data: []), mentioning: "not a JSON object")
    }

    @Test func rejectsHeaderThatIsNotUTF8() throws {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(4).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [0x7B, 0xFF, 0xFE, 0x7D])
        try expectRejected(bytes, mentioning: "UTF-8")
    }

    @Test(arguments: [
        (#"{"x":[1]}"#, "not a JSON object"),
        (#"{"x":{"shape":[1],"data_offsets":[0,4]}}"#, "dtype"),
        (#"{"x":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}"#, "dtype"),
        (#"{"x":{"dtype":"F32","data_offsets":[0,4]}}"#, "shape"),
        (#"{"x":{"dtype":"F32","shape":1,"data_offsets":[0,4]}}"#, "shape"),
        (#"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, "non-negative integer"),
        (#"{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, "non-negative integer"),
        (#"{"x":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#, "non-negative integer"),
        (#"{"x":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, "non-negative integer"),
        (#"{"x":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}"#, "non-negative integer"),
        (#"{"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, "overflows"),
        (#"{"x":{"dtype":"F32","shape":[1]}}"#, "data_offsets"),
        (#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, "data_offsets"),
        (#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}}"#, "data_offsets"),
        (#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, "negative"),
        (#"{"x":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,4]}}"#, "more than Int.max"),
        (#"{"__metadata__":{"step":3}}"#, "'step' is not a string"),
        (#"{"__metadata__":["pt"]}"#, "__metadata__ is not a JSON object"),
    ])
    func rejectsMalformedEntry(header: String, fragment: String) throws {
        try expectRejected(safetensorsBytes(header: header, data: [0, 0, 0, 0]), mentioning: fragment)
    }

    @Test func reportsUnreadableFile() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("absent.safetensors")
        let error = try #require(throws: FileError.self) { try SafeTensorsFile(contentsOf: url) }
        #expect(error.file == url.path)
        #expect(error.problem.hasPrefix("cannot read file"))
    }

    // MARK: - Atomic write

    @Test func atomicWriteReplacesExistingFileAndLeavesNoTemporary() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("checkpoint.safetensors")
        try Data("old contents that are not a safetensors file".utf8).write(to: url)

        try SafeTensorsWriter.write([SafeTensorsTensor(name: "w", shape: [2], floats: [1, 2])], metadata: ["step": "1"], to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["checkpoint.safetensors"])
        #expect(try SafeTensorsFile(contentsOf: url).floats("w") == [1, 2])

        try SafeTensorsWriter.write([SafeTensorsTensor(name: "w", shape: [1], floats: [3])], metadata: ["step": "2"], to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["checkpoint.safetensors"])
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata == ["step": "2"])
        #expect(try file.floats("w") == [3])
        #expect(try Data(contentsOf: url) == SafeTensorsWriter.encode([SafeTensorsTensor(name: "w", shape: [1], floats: [3])], metadata: ["step": "2"]))
    }

    @Test func failedWriteLeavesNothingBehind() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("missing-subdirectory/x.safetensors")
        let error = try #require(throws: FileError.self) {
            try SafeTensorsWriter.write([SafeTensorsTensor(name: "w", shape: [1], floats: [1])], metadata: [:], to: url)
        }
        #expect(error.file == url.path)
        #expect(error.problem.contains("cannot create temporary file"))

        let invalid = directory.appendingPathComponent("invalid.safetensors")
        #expect(throws: FileError.self) {
            try SafeTensorsWriter.write([SafeTensorsTensor(name: "w", shape: [2], floats: [1])], metadata: [:], to: invalid)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
