/// Piecewise-linear contours of a ``Grid``: the regions above a level as polygons, and the
/// isolines of a level as polylines, both in data coordinates.
///
/// Each cell whose four corners are present is cut into four triangles that meet at its centre
/// (valued at the mean of the corners), and the value is linear on each triangle ("marching
/// triangles"). The four-triangle split keeps isolines free of the diagonal bias of a two-triangle
/// split. Cells with a missing corner are left out and reported by ``gaps``. Points on an edge are
/// computed from the edge's lower-numbered vertex, so filled regions and isolines meet exactly.
public struct Contours: Sendable {
    public typealias Point = (x: Double, y: Double)

    private let points: [Point]
    private let values: [Double]
    /// Vertex indices of each triangle, counter-clockwise in data coordinates.
    private let triangles: [(Int, Int, Int)]
    /// The cells (i, j) left out because a corner is missing.
    public let gaps: [(i: Int, j: Int)]

    public init(_ grid: Grid) {
        let (nx, ny) = (grid.x.count, grid.y.count)
        var points = grid.y.flatMap { v in grid.x.map { u in (x: u, y: v) } }
        var values = grid.values
        var triangles: [(Int, Int, Int)] = []
        var gaps: [(i: Int, j: Int)] = []
        for j in 0..<ny - 1 {
            for i in 0..<nx - 1 {
                let corners = [j * nx + i, j * nx + i + 1, (j + 1) * nx + i + 1, (j + 1) * nx + i]
                guard corners.allSatisfy({ Grid.isPresent(values[$0]) }) else {
                    gaps.append((i, j))
                    continue
                }
                let centre = points.count
                points.append(((grid.x[i] + grid.x[i + 1]) / 2, (grid.y[j] + grid.y[j + 1]) / 2))
                values.append(corners.reduce(0) { $0 + values[$1] } / 4)
                for k in 0..<4 { triangles.append((corners[k], corners[(k + 1) % 4], centre)) }
            }
        }
        self.points = points
        self.values = values
        self.triangles = triangles
        self.gaps = gaps
    }

    /// The part of the grid where the value is at least `level`: one convex polygon per triangle
    /// piece, all counter-clockwise, to be filled together as one path.
    public func region(above level: Double) -> [[Point]] {
        var pieces: [[Point]] = []
        for (a, b, c) in triangles {
            let corners = [a, b, c]
            let inside = corners.map { values[$0] >= level }
            if inside.allSatisfy({ $0 }) {
                pieces.append(corners.map { points[$0] })
                continue
            }
            guard inside.contains(true) else { continue }
            var polygon: [Point] = []
            for k in 0..<3 {
                let (p, q) = (corners[k], corners[(k + 1) % 3])
                if inside[k] { polygon.append(points[p]) }
                if inside[k] != inside[(k + 1) % 3] { polygon.append(crossing(p, q, level)) }
            }
            pieces.append(polygon)
        }
        return pieces
    }

    /// The isolines of `level`, joined into polylines across triangles; a closed loop repeats its
    /// first point at the end.
    public func isolines(at level: Double) -> [[Point]] {
        // Each triangle crossed by the level contributes one segment between two of its edges.
        var segments: [(UInt64, UInt64)] = []
        var crossings: [UInt64: Point] = [:]
        for (a, b, c) in triangles {
            let corners = [a, b, c]
            var ends: [UInt64] = []
            for k in 0..<3 {
                let (p, q) = (corners[k], corners[(k + 1) % 3])
                if (values[p] >= level) != (values[q] >= level) {
                    let key = Self.edgeKey(p, q)
                    if crossings[key] == nil { crossings[key] = crossing(p, q, level) }
                    ends.append(key)
                }
            }
            if ends.count == 2 { segments.append((ends[0], ends[1])) }
        }
        var touching: [UInt64: [Int]] = [:]
        for (index, (s, t)) in segments.enumerated() {
            touching[s, default: []].append(index)
            touching[t, default: []].append(index)
        }
        var used = [Bool](repeating: false, count: segments.count)
        var lines: [[Point]] = []
        func walk(from start: UInt64) {
            var keys = [start]
            var current = start
            while let next = touching[current]?.first(where: { !used[$0] }) {
                used[next] = true
                current = segments[next].0 == current ? segments[next].1 : segments[next].0
                keys.append(current)
            }
            if keys.count > 1 { lines.append(keys.map { crossings[$0]! }) }
        }
        // Open lines start at the boundary (an edge with one segment); what remains are loops.
        for key in touching.keys.sorted() where touching[key]!.count == 1 && !used[touching[key]![0]] { walk(from: key) }
        for index in segments.indices where !used[index] { walk(from: segments[index].0) }
        return lines
    }

    private static func edgeKey(_ p: Int, _ q: Int) -> UInt64 { UInt64(min(p, q)) << 32 | UInt64(max(p, q)) }

    /// Where the value along edge p-q equals `level`.
    private func crossing(_ p: Int, _ q: Int, _ level: Double) -> Point {
        let (from, to) = (min(p, q), max(p, q))
        let t = (level - values[from]) / (values[to] - values[from])
        return (points[from].x + t * (points[to].x - points[from].x), points[from].y + t * (points[to].y - points[from].y))
    }
}
