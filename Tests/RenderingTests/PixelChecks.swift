import Foundation
import Rendering

/// What a person looking at a decoded figure would check, as functions of its pixels.
enum PixelChecks {
    /// A directory for one test's figures (kept after the run, so they can be looked at).
    static func directory(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("landscape-rendering-tests/\(name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Writes `canvas` as a PNG in `directory` and decodes it again with libpng.
    static func roundTrip(_ canvas: Canvas, named name: String, in directory: URL) throws -> PNGImage {
        let url = directory.appendingPathComponent(name + ".png")
        try canvas.write(to: url, metadata: [("Software", "landscape tests")])
        return try PNGImage.read(url)
    }

    static func color(_ image: PNGImage, _ x: Double, _ y: Double) -> Color {
        let p = image.pixel(Int(x.rounded(.down)), Int(y.rounded(.down)))
        return Color(Int(p.red), Int(p.green), Int(p.blue))
    }

    /// Largest channel difference, in 8-bit levels.
    static func distance(_ a: Color, _ b: Color) -> Double {
        255 * max(abs(a.red - b.red), abs(a.green - b.green), abs(a.blue - b.blue))
    }

    /// The colormap position whose colour is nearest to `color`, and how far that colour is.
    static func position(of color: Color, in map: Colormap) -> (t: Double, distance: Double) {
        (0...1000).map { Double($0) / 1000 }.map { ($0, distance(map.color(at: $0), color)) }.min { $0.1 < $1.1 }!
    }

    /// Whether the pixel is one of the white isolines (no colormap colour has all channels this high).
    static func isIsoline(_ color: Color) -> Bool { min(color.red, color.green, color.blue) > 0.7 }

    /// The distance from (x, y) to the nearest isoline pixel within `radius`, or nil.
    static func nearestIsoline(_ image: PNGImage, _ x: Double, _ y: Double, radius: Int) -> Double? {
        var best: Double?
        for dy in -radius...radius {
            for dx in -radius...radius {
                let (px, py) = (Int(x.rounded(.down)) + dx, Int(y.rounded(.down)) + dy)
                guard px >= 0, py >= 0, px < image.width, py < image.height else { continue }
                let p = image.pixel(px, py)
                if isIsoline(Color(Int(p.red), Int(p.green), Int(p.blue))) {
                    let d = hypot(Double(px) + 0.5 - x, Double(py) + 0.5 - y)
                    best = min(best ?? d, d)
                }
            }
        }
        return best
    }
}
