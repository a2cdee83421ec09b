import Foundation
import Rendering
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Contour geometry, scales and meshes on cases with exact answers.
struct GeometryTests {
    static let axis = stride(from: -1.0, through: 1.0001, by: 0.1).map { $0 }

    static func area(_ polygons: [[Contours.Point]]) -> Double {
        polygons.reduce(0) { total, p in
            total + 0.5 * p.indices.reduce(0) { $0 + p[$1].x * p[($1 + 1) % p.count].y - p[($1 + 1) % p.count].x * p[$1].y }
        }
    }

    @Test func planeContoursAreExact() {
        // f = x + 2y + 5 is linear, so marching triangles reproduce it exactly. (The offset keeps
        // values away from -1, the files' mark of a missing value.)
        let contours = Contours(Grid(x: Self.axis, y: Self.axis) { x, y in x + 2 * y + 5 })
        let lines = contours.isolines(at: 5.5)
        #expect(lines.count == 1)
        #expect(lines[0].allSatisfy { abs($0.x + 2 * $0.y - 0.5) < 1e-12 })
        let below = 2.0 * 2 - Self.area(contours.region(above: 5.5))
        // Area of {x + 2y < 0.5}: integral over x of (0.5 - x)/2 + 1 = 2 * 1 + (0.5 * 2 - 0) / 2 = 2.5.
        #expect(abs(below - 2.5) < 1e-12)
        #expect(Self.area(contours.region(above: -.infinity)) > 4 - 1e-12)
    }

    @Test func circleContoursConverge() {
        let fine = stride(from: -1.0, through: 1.0001, by: 0.02).map { $0 }
        let contours = Contours(Grid(x: fine, y: fine) { x, y in x * x + y * y })
        let lines = contours.isolines(at: 0.25)
        #expect(lines.count == 1 && lines[0].first! == lines[0].last!, "one closed loop")
        #expect(lines[0].allSatisfy { abs(hypot($0.x, $0.y) - 0.5) < 1e-3 })
        #expect(abs(Self.area(contours.region(above: 0.25)) - (4 - Double.pi * 0.25)) < 2e-3)
    }

    @Test func missingCornersLeaveGaps() {
        var values = Grid(x: Self.axis, y: Self.axis) { x, _ in x + 5 }.values
        values[5 * 21 + 5] = -1
        let contours = Contours(Grid(x: Self.axis, y: Self.axis, values: values))
        #expect(Set(contours.gaps.map { [$0.i, $0.j] }) == [[4, 4], [5, 4], [4, 5], [5, 5]])
        #expect(abs(Self.area(contours.region(above: -.infinity)) - (4 - 4 * 0.01)) < 1e-12)
    }

    @Test func ticksAreRound() {
        #expect(Scale(lower: 0, upper: 1).ticks(count: 5).map(\.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(Scale(lower: -1, upper: 1).ticks(count: 8).map(\.label) == ["-1.00", "-0.75", "-0.50", "-0.25", "0", "0.25", "0.50", "0.75", "1.00"])
        #expect(Scale(.log, lower: 0.01, upper: 10).ticks().map(\.value) == [0.01, 0.1, 1, 10])
        #expect(Scale(.log, lower: 0.3, upper: 6).ticks().map(\.label) == ["0.5", "1", "2", "5"])
        #expect(ContourLevels.reference.count == 20 && ContourLevels.reference.first == 0.1 && abs(ContourLevels.reference.last! - 9.6) < 1e-12)
        #expect(ContourLevels.trimmed(ContourLevels.reference, lower: 0.3, upper: 2) == Array(ContourLevels.reference[0...4]))
    }

    @Test func meshesListPresentCells() throws {
        var values = Grid(x: [0, 1, 2], y: [0, 1]) { x, y in 10 * x + y }.values
        values[2] = .nan
        let mesh = SurfaceMesh(grid: Grid(x: [0, 1, 2], y: [0, 1], values: values), name: "train_loss", maximum: 15)
        #expect(mesh.faces == [[0, 1, 4, 3]])
        let obj = mesh.text(.obj).split(separator: "\n")
        #expect(obj.filter { $0.hasPrefix("v ") }.count == 6 && obj.last == "f 1 2 5 4")
        #expect(obj.contains("v 2 1 15"), "21 clipped to 15")
        let vtp = mesh.text(.vtp)
        #expect(vtp.contains("NumberOfPoints=\"6\"") && vtp.contains("NumberOfPolys=\"1\"") && vtp.contains("Name=\"train_loss\""))
        #expect(XMLParser(data: Data(vtp.utf8)).parse())
        let logged = SurfaceMesh(grid: Grid(x: [0, 1], y: [0, 1], values: [1, 10, 100, 1000]), name: "loss", logScale: true)
        #expect(logged.text(.obj).contains("v 1 1 3"))
    }
}
