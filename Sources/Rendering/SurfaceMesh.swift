import Foundation
import LandscapeCore

/// A 2D surface as a 3D mesh (x, y, value) for ParaView and other 3D tools, with the options of the
/// reference code's `h5_to_vtp.py` converter: log scale and clipping of the height.
///
/// Every grid point is a vertex; every cell whose four corners are present is a quadrilateral.
/// Missing points keep their place at height 0 (so vertex numbers stay `j * nx + i`) but belong to
/// no face.
public struct SurfaceMesh: Sendable {
    public enum Format: String, CaseIterable, Sendable {
        /// VTK XML PolyData (ASCII), with the value as point data.
        case vtp
        /// Wavefront OBJ.
        case obj
    }

    public let grid: Grid
    /// The name of the value (the point-data array in a .vtp).
    public let name: String
    /// Heights are log10 of the values.
    public let logScale: Bool
    /// Heights above this are clipped to it (before the log).
    public let maximum: Double?

    public init(grid: Grid, name: String, logScale: Bool = false, maximum: Double? = nil) {
        self.grid = grid
        self.name = name
        self.logScale = logScale
        self.maximum = maximum
    }

    /// The height of a present value, or nil.
    public func height(_ value: Double) -> Double? {
        guard Grid.isPresent(value), !logScale || value > 0 else { return nil }
        let clipped = maximum.map { min(value, $0) } ?? value
        return logScale ? log10(clipped) : clipped
    }

    /// Vertex indices (0-based) of each quadrilateral, counter-clockwise seen from above.
    public var faces: [[Int]] {
        let nx = grid.x.count
        var faces: [[Int]] = []
        for j in 0..<grid.y.count - 1 {
            for i in 0..<nx - 1 {
                let corners = [j * nx + i, j * nx + i + 1, (j + 1) * nx + i + 1, (j + 1) * nx + i]
                if corners.allSatisfy({ height(grid.values[$0]) != nil }) { faces.append(corners) }
            }
        }
        return faces
    }

    public func text(_ format: Format) -> String {
        let nx = grid.x.count
        let vertices = grid.values.indices.map { k in (grid.x[k % nx], grid.y[k / nx], height(grid.values[k]) ?? 0) }
        let faces = self.faces
        let number = { (v: Double) in String(format: "%.9g", v) }
        switch format {
        case .obj:
            var lines = ["# \(name) surface, \(grid.x.count) x \(grid.y.count) points\(logScale ? ", log10 heights" : "")"
                + (maximum.map { ", clipped at \(number($0))" } ?? "")]
            lines += vertices.map { "v \(number($0.0)) \(number($0.1)) \(number($0.2))" }
            lines += faces.map { "f " + $0.map { String($0 + 1) }.joined(separator: " ") }
            return lines.joined(separator: "\n") + "\n"
        case .vtp:
            let points = vertices.map { "\(number($0.0)) \(number($0.1)) \(number($0.2))" }.joined(separator: "\n")
            let values = grid.values.map { height($0).map(number) ?? "nan" }.joined(separator: " ")
            let connectivity = faces.map { $0.map(String.init).joined(separator: " ") }.joined(separator: "\n")
            let offsets = faces.indices.map { String(4 * ($0 + 1)) }.joined(separator: " ")
            let escaped = name.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "<", with: "&lt;")
            return """
                <?xml version="1.0"?>
                <VTKFile type="PolyData" version="0.1" byte_order="LittleEndian">
                  <PolyData>
                    <Piece NumberOfPoints="\(vertices.count)" NumberOfVerts="0" NumberOfLines="0" NumberOfStrips="0" NumberOfPolys="\(faces.count)">
                      <Points>
                        <DataArray type="Float64" NumberOfComponents="3" format="ascii">
                \(points)
                        </DataArray>
                      </Points>
                      <PointData Scalars="\(escaped)">
                        <DataArray type="Float64" Name="\(escaped)" format="ascii">
                \(values)
                        </DataArray>
                      </PointData>
                      <Polys>
                        <DataArray type="Int64" Name="connectivity" format="ascii">
                \(connectivity)
                        </DataArray>
                        <DataArray type="Int64" Name="offsets" format="ascii">
                \(offsets)
                        </DataArray>
                      </Polys>
                    </Piece>
                  </PolyData>
                </VTKFile>

                """
        }
    }

    /// Writes the mesh to `url` atomically.
    public func write(_ format: Format, to url: URL) throws(FileError) {
        do { try Data(text(format).utf8).write(to: url, options: .atomic) } catch {
            throw FileError(file: url.path, problem: "cannot write: \(error.localizedDescription)")
        }
    }
}
