import ArgumentParser
import Foundation
import LandscapeCore
import Rendering

/// `landscape mesh`: a 2D surface as a 3D mesh for ParaView (.vtp) or any 3D tool (.obj).
struct Mesh: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a 2-D surface as a 3-D mesh: VTK PolyData (.vtp, for ParaView) or Wavefront .obj.",
        discussion: "The options follow the reference code's h5_to_vtp.py: --log for log10 heights, --zmax to clip the peaks.")

    @Argument(help: "A 2-D surface (.h5).")
    var file: String
    @Option(help: "The dataset to use as height (default: train_loss).")
    var quantity: String?
    @Option(help: ArgumentHelp("Output file, .vtp or .obj (default: the input with .vtp).", valueName: "file"))
    var out: String?
    @Flag(help: "Heights are log10 of the values.")
    var log = false
    @Option(help: "Clip values above this before the log.")
    var zmax: Double?

    func run() throws {
        let output = out ?? URL(fileURLWithPath: file).deletingPathExtension().path + ".vtp"
        guard let format = SurfaceMesh.Format(rawValue: URL(fileURLWithPath: output).pathExtension.lowercased()) else {
            throw ValidationError("--out \(output): the extension must be .vtp or .obj")
        }
        let (grid, name) = try Figures.grid(file, quantity: quantity)
        let mesh = SurfaceMesh(grid: grid, name: name, logScale: log, maximum: zmax)
        try mesh.write(format, to: URL(fileURLWithPath: output))
        say("wrote \(output): \(grid.x.count * grid.y.count) points, \(mesh.faces.count) cells")
    }
}
