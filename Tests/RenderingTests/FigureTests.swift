import Foundation
import Rendering
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Curve plots, the 3D view, vector output and PNG metadata.
struct FigureTests {
    static let xs = stride(from: -1.0, through: 1.0001, by: 0.04).map { $0 }

    @Test func curvesSitWhereTheirValuesAre() throws {
        let sharp = Curve(label: "sharp", x: Self.xs, y: Self.xs.map { 4 * $0 * $0 + 0.1 }, colorIndex: 0)
        let wide = Curve(label: "wide", x: Self.xs, y: Self.xs.map { $0 * $0 + 0.1 }, colorIndex: 1)
        let accuracy = Curve(label: "sharp accuracy", x: Self.xs, y: Self.xs.map { 100 - 20 * $0 * $0 }, onRightAxis: true, dashed: true)
        var figure = CurveFigure(curves: [sharp, wide, accuracy])
        figure.title = "two bowls"
        let layout = figure.layout()
        let image = try PixelChecks.roundTrip(figure.render(.png), named: "curves", in: try PixelChecks.directory("figures"))
        // Three legend entries go below the plot, which makes the figure taller than 420.
        #expect(image.width == 640 && image.height == layout.height && layout.height > 420 && layout.right != nil)
        // Each curve's colour lies within 2 pixels of its exact value (left of the middle, where the
        // curves are apart and the legend, top right, is not).
        for (curve, index) in [(sharp, 0), (wide, 1)] {
            for k in stride(from: 2, to: 20, by: 3) {
                let p = layout.axes.point(curve.x[k], curve.y[k])
                let near = (-2...2).contains { dy in
                    (-2...2).contains { dx in
                        PixelChecks.distance(PixelChecks.color(image, p.x + Double(dx), p.y + Double(dy)), Color.series[index]) < 40
                    }
                }
                #expect(near, "\(curve.label) at x \(curve.x[k])")
            }
        }
    }

    @Test func logScaleAndGapsInCurves() throws {
        var values = Self.xs.map { exp(3 * $0) }
        values[10] = -1
        values[11] = .nan
        var figure = CurveFigure(curves: [Curve(label: "exp", x: Self.xs, y: values, spread: values.map { 0.2 * $0 })])
        figure.logScale = true
        figure.marks = [(0, "start")]
        let layout = figure.layout()
        #expect(layout.axes.y.kind == .log)
        // exp(3x) is a straight line on a log scale: the midpoint of the line between two points is on the curve.
        let image = try PixelChecks.roundTrip(figure.render(.png), named: "log-curve", in: try PixelChecks.directory("figures"))
        let p = layout.axes.point(0.5, exp(1.5))
        #expect(PixelChecks.distance(PixelChecks.color(image, p.x, p.y), Color.series[0]) < 40)
    }

    @Test func surfaceViewDrawsTheSurfaceInColour() throws {
        let grid = Grid(x: Self.xs, y: Self.xs) { x, y in x * x + 3 * y * y }
        var view = SurfaceView(grid: grid)
        view.title = "x² + 3y²"
        let image = try PixelChecks.roundTrip(view.render(.png), named: "surface-3d", in: try PixelChecks.directory("figures"))
        var colours = Set<Int>()
        var mapped = 0
        for y in stride(from: 0, to: image.height, by: 4) {
            for x in stride(from: 0, to: image.width, by: 4) {
                let p = image.pixel(x, y)
                colours.insert(Int(p.red) << 16 | Int(p.green) << 8 | Int(p.blue))
                if Int(p.green) > Int(p.red) + 20 || Int(p.blue) > Int(p.red) + 30 { mapped += 1 }
            }
        }
        #expect(colours.count > 200, "a shaded surface has many colours, found \(colours.count)")
        #expect(mapped > 2000, "a large part of the view is surface, found \(mapped) samples")
    }

    @Test func vectorFormatsAreWellFormed() throws {
        let grid = Grid(x: Self.xs, y: Self.xs) { x, y in x * x + y * y }
        let directory = try PixelChecks.directory("vector")
        let figure = ContourFigure(panels: [ContourPanel(grid: grid, title: "bowl")])
        let svg = directory.appendingPathComponent("bowl.svg"), pdf = directory.appendingPathComponent("bowl.pdf")
        try figure.render(.svg).write(to: svg, metadata: [("Title", "bowl")])
        try figure.render(.pdf).write(to: pdf, metadata: [("Title", "bowl"), ("Software", "landscape")])

        final class Root: NSObject, XMLParserDelegate {
            var root: String?
            var attributes: [String: String] = [:]
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
                if root == nil { (root, self.attributes) = (name, attributes) }
            }
        }
        let parser = XMLParser(data: try Data(contentsOf: svg))
        let root = Root()
        parser.delegate = root
        #expect(parser.parse(), "the SVG parses as XML: \(parser.parserError.map { "\($0)" } ?? "")")
        #expect(root.root == "svg")
        let layout = figure.layout()
        #expect(root.attributes["width"].flatMap { Double($0.filter { $0.isNumber || $0 == "." }) } == Double(layout.width))

        let bytes = [UInt8](try Data(contentsOf: pdf))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("%PDF-1."))
        #expect(text.hasSuffix("%%EOF\n") || text.hasSuffix("%%EOF"))
        // The startxref offset points at the cross-reference table.
        let tail = text.components(separatedBy: "startxref").last!.split(whereSeparator: \.isNewline)
        let offset = Int(tail.first!.trimmingCharacters(in: .whitespaces))!
        #expect(String(decoding: bytes[offset..<offset + 4], as: UTF8.self) == "xref")
    }

    @Test func pngRoundTripsWithTextChunks() throws {
        var pixels: [UInt8] = []
        for k in 0..<35 { pixels += [UInt8(k), UInt8(255 - k), UInt8(3 * k)] }
        let image = PNGImage(width: 7, height: 5, pixels: pixels)
        let url = try PixelChecks.directory("png").appendingPathComponent("tiny.png")
        try image.write(to: url, text: [("Source", "a.h5, b.h5"), ("Command", "landscape plot a.h5 b.h5")])
        #expect(try PNGImage.read(url) == image)
        let chunks = PNGImage.textChunks(of: [UInt8](try Data(contentsOf: url)))
        #expect(chunks.map(\.keyword) == ["Source", "Command"])
        #expect(chunks.map(\.value) == ["a.h5, b.h5", "landscape plot a.h5 b.h5"])
    }

    @Test func unreadablePNGIsAClearError() throws {
        let url = try PixelChecks.directory("png").appendingPathComponent("broken.png")
        try Data("not a png at all".utf8).write(to: url)
        #expect(throws: (any Error).self) { try PNGImage.read(url) }
        do { _ = try PNGImage.read(url) } catch { #expect(error.file == url.path && !error.problem.isEmpty) }
    }
}
