import Foundation
import Rendering
import Testing

/// Contour figures of surfaces with known shapes, decoded with libpng and checked pixel by pixel.
struct ContourFigureTests {
    /// f = x^2 + y^2 on [-1, 1]^2: the isoline of level L is the circle of radius sqrt(L).
    static let bowl = Grid(x: stride(from: -1.0, through: 1.0001, by: 0.05).map { $0 }, y: stride(from: -1.0, through: 1.0001, by: 0.05).map { $0 }) { x, y in x * x + y * y }

    @Test func isolinesLieOnTheExactCurves() throws {
        var figure = ContourFigure(panels: [ContourPanel(grid: Self.bowl, title: "x² + y²")])
        figure.levels = [0.0625, 0.25, 0.5625, 1, 1.5625]
        figure.labelsIsolines = false  // labels break the lines; this test follows the lines all the way round
        let layout = figure.layout()
        let image = try PixelChecks.roundTrip(figure.render(.png), named: "bowl", in: try PixelChecks.directory("contours"))
        #expect(image.width == layout.width && image.height == layout.height)
        let axes = layout.axes[0]
        var worst = 0.0
        for level in [0.25, 0.5625] {
            for degrees in stride(from: 0.0, to: 360, by: 7.5) {
                let r = level.squareRoot(), angle = degrees * Double.pi / 180
                let exact = axes.point(r * cos(angle), r * sin(angle))
                let found = PixelChecks.nearestIsoline(image, exact.x, exact.y, radius: 4)
                #expect(found != nil && found! <= 2, "level \(level) at \(degrees)°: nearest isoline pixel \(found.map { String($0) } ?? "none")")
                worst = max(worst, found ?? .infinity)
                // Half-way between two isolines there is none.
                let between = axes.point(0.6 * cos(angle), 0.6 * sin(angle))
                #expect(PixelChecks.nearestIsoline(image, between.x, between.y, radius: 3) == nil, "stray isoline at r 0.6, \(degrees)°")
            }
        }
        #expect(worst <= 2)
    }

    @Test func colourVariesAndFollowsTheColormapOutwards() throws {
        var figure = ContourFigure(panels: [ContourPanel(grid: Self.bowl)])
        figure.levels = ContourLevels.linear(from: 0, to: 2, step: 0.125)
        let layout = figure.layout()
        let image = try PixelChecks.roundTrip(figure.render(.png), named: "colour", in: try PixelChecks.directory("contours"))
        let axes = layout.axes[0]
        var positions: [Double] = []
        for r in stride(from: 0.08, through: 0.98, by: 0.09) {
            let p = axes.point(r * cos(0.3), r * sin(0.3))
            let found = PixelChecks.position(of: PixelChecks.color(image, p.x, p.y), in: .viridis)
            if found.distance < 6 { positions.append(found.t) }
        }
        #expect(positions.count >= 8, "most samples are colormap colours")
        #expect(zip(positions, positions.dropFirst()).allSatisfy { $0 <= $1 + 1e-9 }, "colour rises with the value: \(positions)")
        #expect(positions.last! - positions.first! > 0.4, "f from 0.006 to 0.96 on a scale from 0 to 2")
    }

    @Test func colorbarIsMonotoneInTheColormap() throws {
        for map in [Colormap.viridis, .magma] {
            var figure = ContourFigure(panels: [ContourPanel(grid: Self.bowl)])
            figure.colormap = map
            let layout = figure.layout()
            let image = try PixelChecks.roundTrip(figure.render(.png), named: "colorbar-\(map.name)", in: try PixelChecks.directory("contours"))
            let bar = layout.colorbar
            let samples = stride(from: bar.y + bar.height - 2, through: bar.y + 2, by: -3).map {
                PixelChecks.position(of: PixelChecks.color(image, bar.x + bar.width / 2, $0), in: map)
            }
            #expect(samples.allSatisfy { $0.distance < 6 }, "\(map.name): every bar pixel is a colormap colour")
            #expect(zip(samples, samples.dropFirst()).allSatisfy { $0.t <= $1.t + 1e-9 }, "\(map.name): bottom to top rises")
            #expect(samples.first!.t < 0.1 && samples.last!.t > 0.9)
        }
    }

    @Test func minimumIsMarkedAtItsGridPoint() throws {
        let shifted = Grid(x: Self.bowl.x, y: Self.bowl.y) { x, y in (x - 0.3) * (x - 0.3) + (y + 0.45) * (y + 0.45) + 0.2 }
        let figure = ContourFigure(panels: [ContourPanel(grid: shifted)])
        let image = try PixelChecks.roundTrip(figure.render(.png), named: "minimum", in: try PixelChecks.directory("contours"))
        let p = figure.layout().axes[0].point(0.3, -0.45)
        #expect(PixelChecks.distance(PixelChecks.color(image, p.x, p.y), .marker) < 10)
        let away = figure.layout().axes[0].point(-0.3, 0.45)
        #expect(PixelChecks.distance(PixelChecks.color(image, away.x, away.y), .marker) > 60)
    }

    @Test func missingCellsAreGreyNotAColour() throws {
        var values = Self.bowl.values
        let n = Self.bowl.x.count
        for j in 5..<12 { for i in 25..<35 { values[j * n + i] = -1 } }
        values[30 * n + 8] = .nan
        let grid = Grid(x: Self.bowl.x, y: Self.bowl.y, values: values)
        let figure = ContourFigure(panels: [ContourPanel(grid: grid)])
        let image = try PixelChecks.roundTrip(figure.render(.png), named: "gaps", in: try PixelChecks.directory("contours"))
        let axes = figure.layout().axes[0]
        for (u, v) in [(grid.x[29], grid.y[8]), (grid.x[31] + 0.01, grid.y[7] + 0.02), (grid.x[8], grid.y[30])] {
            let p = axes.point(u, v)
            let c = PixelChecks.color(image, p.x, p.y)
            #expect(max(c.red, c.green, c.blue) - min(c.red, c.green, c.blue) < 0.02, "grey at (\(u), \(v)): \(c)")
            #expect(PixelChecks.position(of: c, in: .viridis).distance > 30)
        }
    }

    @Test func sidePanelsShareOneColourScale() throws {
        let wide = Grid(x: Self.bowl.x, y: Self.bowl.y) { x, y in 0.25 * (x * x + y * y) }
        let figure = ContourFigure(panels: [
            ContourPanel(grid: Self.bowl, title: "sharp", caption: ["worst-case 0.10", "λ_max 4.00"]),
            ContourPanel(grid: wide, title: "wide", caption: ["worst-case 0.02", "λ_max 1.00"]),
        ])
        let layout = figure.layout()
        let image = try PixelChecks.roundTrip(figure.render(.png), named: "side-by-side", in: try PixelChecks.directory("contours"))
        #expect(layout.axes.count == 2 && layout.axes[0].frame.x + layout.axes[0].frame.width < layout.axes[1].frame.x)
        // The same value has the same colour in both panels: f = 0.49 at r 0.7 (sharp) and r 1.4 (wide, off the plot) —
        // compare f = 0.16: r 0.4 in the sharp panel, r 0.8 in the wide one.
        let a = layout.axes[0].point(0.4 * cos(0.5), 0.4 * sin(0.5)), b = layout.axes[1].point(0.8 * cos(0.5), 0.8 * sin(0.5))
        #expect(PixelChecks.distance(PixelChecks.color(image, a.x, a.y), PixelChecks.color(image, b.x, b.y)) < 3)
        // The sharp bowl reaches higher colours at its corners than the wide one.
        let sharpCorner = PixelChecks.color(image, layout.axes[0].point(0.95, 0.95).x, layout.axes[0].point(0.95, 0.95).y)
        let wideCorner = PixelChecks.color(image, layout.axes[1].point(0.95, 0.95).x, layout.axes[1].point(0.95, 0.95).y)
        #expect(PixelChecks.position(of: sharpCorner, in: .viridis).t > PixelChecks.position(of: wideCorner, in: .viridis).t + 0.3)
    }

    @Test func logScaleUsesGeometricLevels() throws {
        var figure = ContourFigure(panels: [ContourPanel(grid: Self.bowl.mapped { $0 + 0.01 })])
        figure.logScale = true
        let layout = figure.layout()
        #expect(layout.colorScale.kind == .log)
        #expect(layout.levels.first! <= 0.01 && layout.levels.last! >= 2.01)
        let image = try PixelChecks.roundTrip(figure.render(.png), named: "log", in: try PixelChecks.directory("contours"))
        // On a log scale, the isoline of 0.1 is the circle of radius sqrt(0.09).
        let axes = layout.axes[0]
        let p = axes.point(0.3 * cos(1.0), 0.3 * sin(1.0))
        #expect(layout.levels.contains { abs($0 - 0.1) < 1e-12 })
        #expect((PixelChecks.nearestIsoline(image, p.x, p.y, radius: 4) ?? 9) <= 2)
    }
}
