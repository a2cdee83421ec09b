import Foundation

/// A 2D surface seen in perspective, the view people otherwise make in ParaView: shaded cells
/// coloured by the colormap, drawn back to front, over a floor with the grid's ticks and a height
/// axis.
public struct SurfaceView: Sendable {
    public var grid: Grid
    public var title = ""
    public var xLabel = "direction 1"
    public var yLabel = "direction 2"
    public var zLabel = "loss"
    public var colormap = Colormap.viridis
    public var logScale = false
    /// Values above this are clipped to it (the reference converter's `zmax`).
    public var maximum: Double?
    /// The values the height axis spans (default: the grid's); give two views the same range to
    /// compare them.
    public var range: ClosedRange<Double>?
    /// The camera's angle around the vertical axis and above the floor, degrees (matplotlib's defaults).
    public var azimuth = -60.0
    public var elevation = 30.0
    public var width = 640.0
    public var height = 540.0
    public var style = Axes.Style.standard

    public init(grid: Grid) { self.grid = grid }

    /// A point of the unit box: x and y in -1...1, height z in 0...1.
    typealias Point3 = (x: Double, y: Double, z: Double)

    /// Screen position and depth of box points for this camera.
    struct Camera {
        let origin: Point3, forward: Point3, right: Point3, up: Point3
        let centre: (x: Double, y: Double), scale: Double

        init(azimuth: Double, elevation: Double, centre: (x: Double, y: Double), scale: Double) {
            let (a, e) = (azimuth * Double.pi / 180, elevation * Double.pi / 180)
            let distance = 7.0
            // The camera looks at the middle of the box from `distance` away.
            origin = (distance * cos(e) * cos(a), distance * cos(e) * sin(a), 0.4 + distance * sin(e))
            let f = (-cos(e) * cos(a), -cos(e) * sin(a), -sin(e))
            forward = f
            let r = (f.1, -f.0, 0.0)  // forward x (0, 0, 1)
            let length = hypot(r.0, r.1)
            right = (r.0 / length, r.1 / length, 0)
            up = (right.y * f.2 - right.z * f.1, right.z * f.0 - right.x * f.2, right.x * f.1 - right.y * f.0)
            self.centre = centre
            self.scale = scale
        }

        func project(_ p: Point3) -> (x: Double, y: Double, depth: Double) {
            let d = (p.x - origin.x, p.y - origin.y, p.z - origin.z)
            let depth = d.0 * forward.x + d.1 * forward.y + d.2 * forward.z
            let sx = (d.0 * right.x + d.1 * right.y + d.2 * right.z) / depth
            let sy = (d.0 * up.x + d.1 * up.y + d.2 * up.z) / depth
            return (centre.x + scale * sx, centre.y - scale * sy, depth)
        }
    }

    public func render(_ format: ImageFormat) -> Canvas {
        let canvas = Canvas(width: Int(width), height: Int(height), format: format)
        let mesh = SurfaceMesh(grid: grid, name: zLabel, logScale: logScale, maximum: maximum)
        let heights = grid.values.map(mesh.height)
        let present = heights.compactMap { $0 }
        let (low, high) = range.map { (mesh.height($0.lowerBound) ?? 0, mesh.height($0.upperBound) ?? 1) } ?? (present.min() ?? 0, present.max() ?? 1)
        let span = high > low ? high - low : 1
        let nx = grid.x.count
        let (xScale, yScale) = (Scale(lower: grid.x.first!, upper: grid.x.last!), Scale(lower: grid.y.first!, upper: grid.y.last!))
        func boxPoint(_ u: Double, _ v: Double, _ h: Double) -> Point3 {
            (2 * xScale.fraction(u) - 1, 2 * yScale.fraction(v) - 1, (h - low) / span)
        }
        let camera = fittedCamera()

        drawFloor(camera, xScale: xScale, yScale: yScale, on: canvas)

        // Cells back to front, each shaded by how directly it faces the light.
        var cells: [(depth: Double, corners: [(x: Double, y: Double)], color: Color)] = []
        let light = Self.normalized((-0.4, -0.6, 1.0))
        for face in mesh.faces {
            let points = face.map { boxPoint(grid.x[$0 % nx], grid.y[$0 / nx], heights[$0]!) }
            let projected = points.map(camera.project)
            let a = (points[2].x - points[0].x, points[2].y - points[0].y, points[2].z - points[0].z)
            let b = (points[3].x - points[1].x, points[3].y - points[1].y, points[3].z - points[1].z)
            let normal = Self.normalized((a.1 * b.2 - a.2 * b.1, a.2 * b.0 - a.0 * b.2, a.0 * b.1 - a.1 * b.0))
            let lambert = abs(normal.0 * light.0 + normal.1 * light.1 + normal.2 * light.2)
            let mean = face.reduce(0) { $0 + heights[$1]! } / 4
            let color = colormap.color(at: (mean - low) / span).shaded(0.55 + 0.45 * lambert)
            cells.append((projected.reduce(0) { $0 + $1.depth } / 4, projected.map { ($0.x, $0.y) }, color))
        }
        for cell in cells.sorted(by: { $0.depth > $1.depth }) {
            canvas.polyline(cell.corners, closed: true)
            canvas.setColor(cell.color)
            canvas.fill(preserving: true)
            canvas.stroke(width: 0.6)
        }
        drawHeightAxis(camera, low: low, high: high, on: canvas)
        if !title.isEmpty { canvas.text(title, at: width / 2, 12, size: style.titleSize, anchor: .top, bold: true) }
        return canvas
    }

    /// The camera that fits the box, its labels included, into the canvas below the title.
    private func fittedCamera() -> Camera {
        let unit = Camera(azimuth: azimuth, elevation: elevation, centre: (0, 0), scale: 1)
        let reach = 1.4
        let corners: [Point3] = [-reach, reach].flatMap { x in [-reach, reach].flatMap { y in [0.0, 1.1].map { z in (x, y, z) } } }
        let projected = corners.map(unit.project)
        let (left, right) = (projected.map(\.x).min()!, projected.map(\.x).max()!)
        let (upper, lower) = (projected.map(\.y).min()!, projected.map(\.y).max()!)
        let top = title.isEmpty ? 14.0 : 44.0
        let scale = min((width - 40) / (right - left), (height - top - 14) / (lower - upper))
        let centre = (width / 2 - scale * (left + right) / 2, top + (height - top - 14) / 2 - scale * (upper + lower) / 2)
        return Camera(azimuth: azimuth, elevation: elevation, centre: centre, scale: scale)
    }

    /// The floor at height 0: light grid lines at the ticks, and tick labels on the two front edges.
    private func drawFloor(_ camera: Camera, xScale: Scale, yScale: Scale, on canvas: Canvas) {
        let corners: [Point3] = [(-1, -1, 0), (1, -1, 0), (1, 1, 0), (-1, 1, 0)]
        canvas.polyline(corners.map { (x: camera.project($0).x, y: camera.project($0).y) }, closed: true)
        canvas.setColor(Color(242, 242, 242))
        canvas.fill(preserving: true)
        canvas.setColor(.rule)
        canvas.stroke(width: 1)
        // The front edges are those nearest the camera: y = -1 or +1 and x = -1 or +1.
        let frontY = camera.project((0, -1, 0)).depth < camera.project((0, 1, 0)).depth ? -1.0 : 1.0
        let frontX = camera.project((-1, 0, 0)).depth < camera.project((1, 0, 0)).depth ? -1.0 : 1.0
        for (scale, alongX) in [(xScale, true), (yScale, false)] {
            for tick in scale.ticks(count: 5) {
                let t = 2 * scale.fraction(tick.value) - 1
                let from: Point3 = alongX ? (t, -1, 0) : (-1, t, 0)
                let to: Point3 = alongX ? (t, 1, 0) : (1, t, 0)
                let (a, b) = (camera.project(from), camera.project(to))
                canvas.move(a.x, a.y)
                canvas.line(b.x, b.y)
                canvas.setColor(.rule)
                canvas.stroke(width: 0.7)
                let edge: Point3 = alongX ? (t, frontY * 1.12, 0) : (frontX * 1.12, t, 0)
                let p = camera.project(edge)
                canvas.text(tick.label, at: p.x, p.y, size: style.tickSize - 1, anchor: .center)
            }
        }
        let xLabelAt = camera.project((0, frontY * 1.32, 0)), yLabelAt = camera.project((frontX * 1.32, 0, 0))
        canvas.text(xLabel, at: xLabelAt.x, xLabelAt.y, size: style.labelSize, anchor: .center)
        canvas.text(yLabel, at: yLabelAt.x, yLabelAt.y, size: style.labelSize, anchor: .center)
    }

    /// A vertical axis with ticks of the value, just outside the floor's corner that is leftmost on
    /// screen, where the surface does not hide it.
    private func drawHeightAxis(_ camera: Camera, low: Double, high: Double, on canvas: Canvas) {
        let corners: [Point3] = [(-1.15, -1.15, 0), (1.15, -1.15, 0), (1.15, 1.15, 0), (-1.15, 1.15, 0)]
        let back = corners.min { camera.project($0).x < camera.project($1).x }!
        let (bottom, top) = (camera.project(back), camera.project((back.x, back.y, 1)))
        canvas.move(bottom.x, bottom.y)
        canvas.line(top.x, top.y)
        canvas.setColor(.ink)
        canvas.stroke(width: 1)
        let top3 = high > low ? high : low + 1
        // Ticks at round values: of the value itself on a log scale, placed at its log10.
        let ticks = logScale ? Scale(.log, lower: pow(10, low), upper: pow(10, top3)).ticks(count: 5).map { (log10($0.value), $0.label) }
            : Scale(lower: low, upper: top3).ticks(count: 5).map { ($0.value, $0.label) }
        for (value, label) in ticks {
            let p = camera.project((back.x, back.y, (value - low) / (top3 - low)))
            canvas.move(p.x, p.y)
            canvas.line(p.x - 5, p.y)
            canvas.stroke(width: 1)
            canvas.text(label, at: p.x - 7, p.y, size: style.tickSize - 1, anchor: .right)
        }
        canvas.text(zLabel + (logScale ? " (log scale)" : ""), at: max(top.x - 30, 6), top.y - 8, size: style.labelSize, anchor: .bottomLeft)
    }

    private static func normalized(_ v: (Double, Double, Double)) -> (Double, Double, Double) {
        let length = max((v.0 * v.0 + v.1 * v.1 + v.2 * v.2).squareRoot(), 1e-300)
        return (v.0 / length, v.1 / length, v.2 / length)
    }
}
