import Foundation

/// One panel of a ``ContourFigure``: a surface, its title, caption lines under it, and optionally
/// a path drawn over it (a training trajectory in its PCA plane).
public struct ContourPanel: Sendable {
    public var grid: Grid
    public var title: String
    public var caption: [String]
    public var path: [(x: Double, y: Double)]
    public var pathLabels: [String]

    public init(grid: Grid, title: String = "", caption: [String] = [], path: [(x: Double, y: Double)] = [], pathLabels: [String] = []) {
        self.grid = grid
        self.title = title
        self.caption = caption
        self.path = path
        self.pathLabels = pathLabels
    }
}

/// Filled contours of one or more 2D surfaces side by side on one colour scale, as in the figures
/// of Li et al. (2018): bands of a perceptually uniform colormap between levels, labelled white
/// isolines, the minimum marked, missing cells hatched grey, a shared colorbar.
public struct ContourFigure: Sendable {
    public var panels: [ContourPanel]
    public var xLabel = "direction 1"
    public var yLabel = "direction 2"
    public var colorbarLabel = "loss"
    public var colormap = Colormap.viridis
    /// Logarithmic colour scale (and contouring of log10 of the values).
    public var logScale = false
    /// The isoline levels; nil chooses them from the data (``ContourLevels/automatic(lower:upper:count:log:)``).
    public var levels: [Double]?
    /// Whether isolines carry their level (the line is broken under the label).
    public var labelsIsolines = true
    /// Side of each panel's square plot area.
    public var panelSize = 400.0
    public var style = Axes.Style.standard

    public init(panels: [ContourPanel]) {
        precondition(!panels.isEmpty, "ContourFigure: no panels")
        self.panels = panels
    }

    /// Where everything goes, computed from the data and sizes without drawing.
    public struct Layout: Sendable {
        public let width: Int
        public let height: Int
        /// One per panel.
        public let axes: [Axes]
        /// The colorbar's bar and the scale along it (bottom to top).
        public let colorbar: Axes.Rectangle
        public let colorScale: Scale
        /// The levels in use, increasing, and the colormap position of the band above each one
        /// (the band below the first takes position 0).
        public let levels: [Double]
        public let bandPositions: [Double]
    }

    public func layout() -> Layout {
        let present = panels.flatMap { $0.grid.presentValues }.filter { !logScale || $0 > 0 }
        let (low, high) = (present.min() ?? 0.1, present.max() ?? 1)
        let chosen = levels ?? ContourLevels.automatic(lower: logScale ? max(low, 1e-12) : low, upper: max(high, low), log: logScale)
        let used = ContourLevels.trimmed(chosen.filter { !logScale || $0 > 0 }, lower: low, upper: high)
        let scale = Scale(logScale ? .log : .linear, lower: used.first!, upper: used.last!)
        let bands = used.indices.map { k in k == used.count - 1 ? 1.0 : (Double(k) + 0.5) / Double(used.count - 1) }

        let captionLines = panels.map(\.caption.count).max() ?? 0
        let (left, right, gap) = (72.0, 20.0, 18.0)
        let top = 16 + (panels.contains { !$0.title.isEmpty } ? style.titleSize + 12 : 0)
        let bottom = 16 + style.tickSize + style.labelSize + 20 + Double(captionLines) * (style.captionSize + 6)
        var axes: [Axes] = []
        var x = left
        for panel in panels {
            let g = panel.grid
            axes.append(Axes(frame: (x, top, panelSize, panelSize),
                             x: Scale(lower: g.x.first!, upper: g.x.last!), y: Scale(lower: g.y.first!, upper: g.y.last!)))
            x += panelSize + right + left
        }
        let bar: Axes.Rectangle = (x - left + gap, top, 16, panelSize)
        let width = bar.x + bar.width + 90
        return Layout(width: Int(width.rounded(.up)), height: Int((top + panelSize + bottom).rounded(.up)), axes: axes,
                      colorbar: bar, colorScale: scale, levels: used, bandPositions: bands)
    }

    /// Draws the figure on a new canvas of the layout's size.
    public func render(_ format: ImageFormat) -> Canvas {
        let layout = layout()
        let canvas = Canvas(width: layout.width, height: layout.height, format: format)
        for (panel, axes) in zip(panels, layout.axes) { draw(panel, in: axes, layout: layout, on: canvas) }
        drawColorbar(layout, on: canvas)
        return canvas
    }

    // MARK: Panels

    private func transform(_ value: Double) -> Double { logScale ? log10(value) : value }

    private func draw(_ panel: ContourPanel, in axes: Axes, layout: Layout, on canvas: Canvas) {
        let grid = logScale ? panel.grid.mapped { $0 > 0 ? log10($0) : .nan } : panel.grid
        let contours = Contours(grid)
        let levels = layout.levels.map(transform)
        func path(_ polygons: [[Contours.Point]]) {
            for polygon in polygons { canvas.polyline(polygon.map { axes.point($0.x, $0.y) }, closed: true) }
        }
        axes.clipped(canvas) {
            // Painter's order: everything in the lowest colour, then each level's region above it.
            path(contours.region(above: -.infinity))
            canvas.setColor(colormap.color(at: 0))
            canvas.fill()
            for (level, position) in zip(levels, layout.bandPositions) {
                path(contours.region(above: level))
                canvas.setColor(colormap.color(at: position))
                canvas.fill()
            }
            drawGaps(contours.gaps, of: grid, in: axes, on: canvas)
            drawIsolines(contours, levels: levels, labels: layout.levels, in: axes, on: canvas)
            drawPath(panel, in: axes, on: canvas)
            if let minimum = panel.grid.minimum {
                let p = axes.point(grid.x[minimum.i], grid.y[minimum.j])
                canvas.circle(p.x, p.y, radius: 5.5)
                canvas.setColor(.white)
                canvas.stroke(width: 2.5, preserving: true)
                canvas.setColor(.marker)
                canvas.fill()
            }
        }
        axes.drawFrame(on: canvas, xLabel: xLabel, yLabel: yLabel, style: style)
        let centre = axes.frame.x + axes.frame.width / 2
        canvas.text(panel.title, at: centre, axes.frame.y - 10, size: style.titleSize, anchor: .bottom, bold: true)
        var y = axes.frame.y + axes.frame.height + style.tickSize + style.labelSize + 24
        for line in panel.caption {
            canvas.text(line, at: centre, y, size: style.captionSize, anchor: .top)
            y += style.captionSize + 6
        }
    }

    /// Cells without a value: grey with a dark diagonal hatch, a look no colormap has.
    private func drawGaps(_ gaps: [(i: Int, j: Int)], of grid: Grid, in axes: Axes, on canvas: Canvas) {
        guard !gaps.isEmpty else { return }
        func cells() {
            for (i, j) in gaps {
                let a = axes.point(grid.x[i], grid.y[j + 1]), b = axes.point(grid.x[i + 1], grid.y[j])
                canvas.rectangle(a.x, a.y, b.x - a.x, b.y - a.y)
            }
        }
        cells()
        canvas.setColor(.missing)
        canvas.fill()
        canvas.clipped(byPath: cells) {
            let f = axes.frame
            var offset = -f.height
            while offset < f.width {
                canvas.move(f.x + offset, f.y + f.height)
                canvas.line(f.x + offset + f.height, f.y)
                offset += 7
            }
            canvas.setColor(Color(128, 128, 128))
            canvas.stroke(width: 1)
        }
    }

    /// White isolines, each labelled once where it is long enough, the line broken under the label.
    private func drawIsolines(_ contours: Contours, levels: [Double], labels: [Double], in axes: Axes, on canvas: Canvas) {
        let every = labelsIsolines ? (levels.count > 14 ? 2 : 1) : Int.max
        for (k, level) in levels.enumerated() {
            let text = Self.label(labels[k])
            let textWidth = canvas.measure(text, size: 9.5).width
            for line in contours.isolines(at: level) {
                let points = line.map { axes.point($0.x, $0.y) }
                let placed = k % every == 0 ? IsolineLabel(points, width: textWidth + 6) : nil
                canvas.setColor(.white)
                for piece in placed?.pieces ?? [points] { canvas.polyline(piece) }
                canvas.stroke(width: 1.3)
                if let placed {
                    canvas.text(text, at: placed.centre.x, placed.centre.y, size: 9.5, anchor: .center, color: .white, angle: placed.angle)
                }
            }
        }
    }

    /// The path in black over a white casing, its points white with a black rim, so it stands
    /// apart from both the colormap and the red minimum marker.
    private func drawPath(_ panel: ContourPanel, in axes: Axes, on canvas: Canvas) {
        guard !panel.path.isEmpty else { return }
        let points = panel.path.map { axes.point($0.x, $0.y) }
        canvas.polyline(points)
        canvas.setColor(.white)
        canvas.stroke(width: 4)
        canvas.polyline(points)
        canvas.setColor(.black)
        canvas.stroke(width: 1.8)
        for (index, p) in points.enumerated() {
            canvas.circle(p.x, p.y, radius: 3.5)
            canvas.setColor(.white)
            canvas.fill(preserving: true)
            canvas.setColor(.black)
            canvas.stroke(width: 1.5)
            if index < panel.pathLabels.count {
                canvas.text(panel.pathLabels[index], at: p.x + 6, p.y - 4, size: 10, anchor: .bottomLeft, color: .ink, halo: .white)
            }
        }
    }

    // MARK: Colorbar

    private func drawColorbar(_ layout: Layout, on canvas: Canvas) {
        let bar = layout.colorbar
        let scale = layout.colorScale
        for k in 0..<layout.levels.count - 1 {
            let top = bar.y + (1 - scale.fraction(layout.levels[k + 1])) * bar.height
            let bottom = bar.y + (1 - scale.fraction(layout.levels[k])) * bar.height
            canvas.rectangle(bar.x, top, bar.width, bottom - top + 0.5)
            canvas.setColor(colormap.color(at: layout.bandPositions[k]))
            canvas.fill()
        }
        canvas.rectangle(bar.x, bar.y, bar.width, bar.height)
        canvas.setColor(.ink)
        canvas.stroke(width: 1)
        let every = max(1, Int((Double(layout.levels.count) / (bar.height / 28)).rounded(.up)))
        var widest = 0.0
        for (k, level) in layout.levels.enumerated() where k % every == 0 {
            let y = bar.y + (1 - scale.fraction(level)) * bar.height
            canvas.setColor(.ink)
            canvas.move(bar.x + bar.width, y)
            canvas.line(bar.x + bar.width + style.tickLength, y)
            canvas.stroke(width: 1)
            let text = Self.label(level)
            canvas.text(text, at: bar.x + bar.width + style.tickLength + 2, y, size: style.tickSize, anchor: .left)
            widest = max(widest, canvas.measure(text, size: style.tickSize).width)
        }
        canvas.text(colorbarLabel, at: bar.x + bar.width + style.tickLength + widest + 8, bar.y + bar.height / 2,
                    size: style.labelSize, anchor: .top, angle: -Double.pi / 2)
    }

    /// A level as people write it: 0.1, 0.25, 1.5, 2e-05.
    static func label(_ level: Double) -> String { String(format: "%.4g", level) }
}

/// Where an isoline's label goes: at the middle of the line's length, along its direction, with
/// the line cut for the label's width. Nil when the line is too short to carry one.
struct IsolineLabel {
    let centre: (x: Double, y: Double)
    let angle: Double
    let pieces: [[(x: Double, y: Double)]]

    init?(_ points: [(x: Double, y: Double)], width: Double) {
        var lengths = [0.0]
        for (a, b) in zip(points, points.dropFirst()) { lengths.append(lengths.last! + hypot(b.x - a.x, b.y - a.y)) }
        let total = lengths.last!
        guard total > 3 * width else { return nil }
        let (from, to) = (total / 2 - width / 2, total / 2 + width / 2)
        func at(_ s: Double) -> (x: Double, y: Double) {
            let k = min(max(lengths.firstIndex { $0 >= s } ?? 1, 1), points.count - 1)
            let t = (s - lengths[k - 1]) / max(lengths[k] - lengths[k - 1], 1e-12)
            return (points[k - 1].x + t * (points[k].x - points[k - 1].x), points[k - 1].y + t * (points[k].y - points[k - 1].y))
        }
        let (start, end) = (at(from), at(to))
        centre = ((start.x + end.x) / 2, (start.y + end.y) / 2)
        var direction = atan2(end.y - start.y, end.x - start.x)
        if direction > Double.pi / 2 { direction -= Double.pi }
        if direction < -Double.pi / 2 { direction += Double.pi }
        angle = direction
        let before = points.indices.filter { lengths[$0] < from }.map { points[$0] } + [start]
        let after = [end] + points.indices.filter { lengths[$0] > to }.map { points[$0] }
        pieces = [before, after]
    }
}
