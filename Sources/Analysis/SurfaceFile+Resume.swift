import Foundation

extension SurfaceFile {
    /// The file to compute into: a new one, or the existing one when it was started with the same
    /// grid, quantities and settings (so a stopped run resumes). Attributes named in `ignoring`
    /// (the command line, whose spelling may differ) need not match.
    public static func openOrCreate(_ url: URL, x: [Double], y: [Double]?, quantities: [String], attributes: [String: String],
                                    ignoring: Set<String> = ["command"]) throws -> SurfaceFile {
        guard FileManager.default.fileExists(atPath: url.path) else {
            return try create(at: url, x: x, y: y, quantities: quantities, attributes: attributes)
        }
        let file = try open(url, writable: true)
        let stored = try file.attributes().filter { !ignoring.contains($0.key) }
        guard file.x == x, file.y == y, Set(file.quantities) == Set(quantities),
              stored == attributes.filter({ !ignoring.contains($0.key) }) else {
            file.close()
            throw AnalysisError("\(url.path) exists with another grid, data or settings; remove it or choose another --out")
        }
        return file
    }
}
