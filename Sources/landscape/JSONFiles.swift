import Foundation
import LandscapeCore

/// Writes a result as pretty JSON with sorted keys, atomically.
func writeJSON(_ value: some Encodable, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
}

/// A JSON results file decoded (as ``writeJSON(_:to:)`` writes them), or a one-line error naming it.
func decode<T: Decodable>(_ type: T.Type, _ path: String) throws(FileError) -> T {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    do { return try decoder.decode(type, from: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
        throw FileError(file: path, problem: "cannot read it as a \(type) (\(error.localizedDescription))")
    }
}
