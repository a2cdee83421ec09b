import Foundation

/// One curve of a ``CurveFigure``. Points whose y is missing (not finite, or -1) break the line.
public struct Curve: Sendable {
    public var label: String
    public var x: [Double]
    public var y: [Double]
    /// A band of plus or minus this much around the curve (e.g. the spread over several directions).
    public var spread: [Double]?
    /// Drawn against the right-hand axis (e.g. accuracy beside loss).
    public var onRightAxis: Bool
    public var dashed: Bool
    /// Index into ``Color/series``; curves that belong together (loss and accuracy of one run) share it.
    public var colorIndex: Int

    public init(label: String, x: [Double], y: [Double], spread: [Double]? = nil, onRightAxis: Bool = false, dashed: Bool = false, colorIndex: Int = 0) {
        precondition(x.count == y.count && x.count >= 2 && (spread?.count ?? x.count) == x.count, "Curve \(label): \(x.count) x for \(y.count) y")
        self.label = label
        self.x = x
        self.y = y
        self.spread = spread
        self.onRightAxis = onRightAxis
        self.dashed = dashed
        self.colorIndex = colorIndex
    }
}

/// Curves along one axis: loss (and accuracy on a second axis) along a direction or an
/// interpolation, or a spectral density; with a legend, optional log scale, and labelled marks.
public struct CurveFigure: Sendable {
    public var curves: [Curve]
    public var title = ""
    public var xLabel = "step along the direction"
    public var yLabel = "loss"
    public var rightLabel = "accuracy (%)"
    public var logScale = false
    /// Vertical dotted lines with a label at the top, e.g. the two solutions of an interpolation.
    public var marks: [(x: Double, label: String)] = []
    public var width = 640.0
    public var height = 420.0
    public var style = Axes.Style.standard

    public init(curves: [Curve]) {
        precondition(!curves.isEmpty, "CurveFigure: no curves")
        self.curves = curves
    }

    public struct Layout: Sendable {
        public let width: Int
        public let height: Int
        /// The plot area with the left axis.
        public let axes: Axes
        /// The right axis's scale, when a curve uses it.
        public let right: Scale?
    }

    public func layout() -> Layout {
        func range(_ onRight: Bool) -> Scale? {
            let chosen = curves.filter { $0.onRightAxis == onRight }
            var values: [Double] = []
            for curve in chosen {
                for (k, y) in curve.y.enumerated() where Grid.isPresent(y) && (!logScale || onRight || y > 0) {
                    let s = curve.spread?[k] ?? 0
                    values += [y - s, y + s].filter { !logScale || onRight || $0 > 0 }
                }
            }
            guard let low = values.min(), let high = values.max() else { return nil }
            if logScale && !onRight { return Scale(.log, lower: low / 1.15, upper: high * 1.15) }
            let pad = (high - low) * 0.05
            return Scale(lower: low - pad, upper: high + pad)
        }
        let xs = curves.flatMap(\.x)
        let right = range(true)
        let frame: Axes.Rectangle = (78, title.isEmpty ? 18 : 44, width - 78 - (right == nil ? 24 : 80), height - (title.isEmpty ? 18 : 44) - 58)
        let legendRows = legendBelow ? (labelled.count + 1) / 2 : 0
        let axes = Axes(frame: frame, x: Scale(lower: xs.min()!, upper: xs.max()!), y: range(false) ?? Scale(lower: 0, upper: 1))
        return Layout(width: Int(width), height: Int(height + Double(legendRows) * legendRowHeight + (legendRows > 0 ? 8 : 0)), axes: axes, right: right)
    }

    public func render(_ format: ImageFormat) -> Canvas {
        let layout = layout()
        let axes = layout.axes
        let canvas = Canvas(width: layout.width, height: layout.height, format: format)
        axes.clipped(canvas) {
            for mark in marks {
                let p = axes.point(mark.x, axes.y.lower)
                canvas.move(p.x, axes.frame.y)
                canvas.line(p.x, axes.frame.y + axes.frame.height)
                canvas.setColor(.rule)
                canvas.stroke(width: 1, dash: [3, 3])
            }
            for curve in curves {
                let target = curve.onRightAxis && layout.right != nil ? Axes(frame: axes.frame, x: axes.x, y: layout.right!) : axes
                draw(curve, in: target, on: canvas)
            }
        }
        for mark in marks {
            // Centred over its line, but kept inside the canvas.
            let half = canvas.measure(mark.label, size: style.tickSize).width / 2
            let x = min(max(axes.point(mark.x, axes.y.lower).x, half + 2), canvas.width - half - 2)
            canvas.text(mark.label, at: x, axes.frame.y - 3, size: style.tickSize, anchor: .bottom)
        }
        axes.drawFrame(on: canvas, xLabel: xLabel, yLabel: yLabel, style: style)
        if let right = layout.right { axes.drawRightAxis(on: canvas, scale: right, label: rightLabel, style: style) }
        if !title.isEmpty {
            canvas.text(title, at: axes.frame.x + axes.frame.width / 2, 14, size: style.titleSize, anchor: .top, bold: true)
        }
        drawLegend(in: axes, right: layout.right, on: canvas)
        return canvas
    }

    /// The runs of consecutive present points of a curve.
    private func pieces(of curve: Curve, _ value: (Int) -> Double) -> [[Int]] {
        var pieces: [[Int]] = [[]]
        for k in curve.x.indices {
            let present = Grid.isPresent(curve.y[k]) && (!logScale || curve.onRightAxis || value(k) > 0)
            if present { pieces[pieces.count - 1].append(k) } else if !pieces[pieces.count - 1].isEmpty { pieces.append([]) }
        }
        return pieces.filter { !$0.isEmpty }
    }

    private func draw(_ curve: Curve, in axes: Axes, on canvas: Canvas) {
        let color = Color.series[curve.colorIndex % Color.series.count]
        if let spread = curve.spread {
            for piece in pieces(of: curve, { curve.y[$0] - spread[$0] }) where piece.count > 1 {
                let upper = piece.map { axes.point(curve.x[$0], curve.y[$0] + spread[$0]) }
                let lower = piece.reversed().map { axes.point(curve.x[$0], curve.y[$0] - spread[$0]) }
                canvas.polyline(upper + lower, closed: true)
                canvas.setColor(color, alpha: 0.2)
                canvas.fill()
            }
        }
        for piece in pieces(of: curve, { curve.y[$0] }) {
            let points = piece.map { axes.point(curve.x[$0], curve.y[$0]) }
            canvas.polyline(points)
            canvas.setColor(color)
            canvas.stroke(width: 2, dash: curve.dashed ? [6, 4] : [])
            if points.count == 1 {
                canvas.circle(points[0].x, points[0].y, radius: 2.5)
                canvas.fill()
            }
        }
    }

    private var labelled: [Curve] { curves.filter { !$0.label.isEmpty } }
    /// More than two entries go below the plot, in two columns, where they hide nothing.
    private var legendBelow: Bool { labelled.count > 2 }
    private var legendRowHeight: Double { style.tickSize + 7 }

    /// The legend: below the plot, or in the corner of the plot that hides the fewest curve points.
    private func drawLegend(in axes: Axes, right: Scale?, on canvas: Canvas) {
        guard !labelled.isEmpty else { return }
        let size = style.tickSize
        let f = axes.frame
        var entries: [(x: Double, y: Double)] = []
        if legendBelow {
            let top = f.y + f.height + style.tickLength + style.tickSize + style.labelSize + 22
            entries = labelled.indices.map { (f.x + Double($0 % 2) * f.width / 2, top + (Double($0 / 2) + 0.5) * legendRowHeight) }
        } else {
            let textWidth = labelled.map { canvas.measure($0.label, size: size).width }.max()!
            let (width, height) = (textWidth + 44, Double(labelled.count) * legendRowHeight + 8)
            let corners: [Axes.Rectangle] = [
                (f.x + f.width - width - 8, f.y + 8, width, height), (f.x + 8, f.y + 8, width, height),
                (f.x + f.width - width - 8, f.y + f.height - height - 8, width, height), (f.x + 8, f.y + f.height - height - 8, width, height),
            ]
            let points = curves.flatMap { curve in
                let target = curve.onRightAxis && right != nil ? Axes(frame: f, x: axes.x, y: right!) : axes
                return curve.x.indices.filter { Grid.isPresent(curve.y[$0]) }.map { target.point(curve.x[$0], curve.y[$0]) }
            }
            func hidden(_ r: Axes.Rectangle) -> Int { points.count { $0.x >= r.x && $0.x <= r.x + r.width && $0.y >= r.y && $0.y <= r.y + r.height } }
            let box = corners.min { hidden($0) < hidden($1) }!
            canvas.rectangle(box.x, box.y, box.width, box.height)
            canvas.setColor(.white, alpha: 0.85)
            canvas.fill(preserving: true)
            canvas.setColor(.rule)
            canvas.stroke(width: 1)
            entries = labelled.indices.map { (box.x + 8, box.y + 4 + (Double($0) + 0.5) * legendRowHeight) }
        }
        for (curve, entry) in zip(labelled, entries) {
            canvas.move(entry.x, entry.y)
            canvas.line(entry.x + 24, entry.y)
            canvas.setColor(Color.series[curve.colorIndex % Color.series.count])
            canvas.stroke(width: 2, dash: curve.dashed ? [6, 4] : [])
            canvas.text(curve.label, at: entry.x + 30, entry.y, size: size, anchor: .left)
        }
    }
}
