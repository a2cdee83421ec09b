import Analysis
import Foundation
import LandscapeCore
import Rendering
import Testing

/// `landscape plot` and `landscape mesh` on files as users hand them over: ours, the reference
/// code's, and broken ones.
@Suite(.enabled(if: Tool.executable != nil))
struct PlotCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/surfaces")

    /// A 2D surface of a bowl (with one cell not computed) and a 1D one, written by our surface file.
    static func surfaces(in directory: URL) throws -> (twoD: String, oneD: String) {
        let axis = stride(from: -1.0, through: 1.0001, by: 0.1).map { $0 }
        let twoD = directory.appendingPathComponent("bowl.h5")
        let file = try SurfaceFile.create(at: twoD, x: axis, y: axis, quantities: ["train_loss", "train_acc"], attributes: ["toolkit": "test"])
        for (j, v) in axis.enumerated() {
            for (i, u) in axis.enumerated() where !(i == 3 && j == 4) {
                try file.write(i: i, j: j, ["train_loss": 0.2 + u * u + 2 * v * v, "train_acc": 90 - 10 * (u * u + v * v)])
            }
        }
        file.close()
        let oneD = directory.appendingPathComponent("line.h5")
        let line = try SurfaceFile.create(at: oneD, x: axis, y: nil, quantities: ["train_loss", "test_loss", "train_acc", "test_acc"],
                                          attributes: ["checkpoint": "runs/a/final.safetensors", "checkpoint_end": "runs/b/final.safetensors"])
        for (i, u) in axis.enumerated() {
            try line.write(i: i, j: 0, ["train_loss": 0.2 + u * u, "test_loss": 0.3 + u * u, "train_acc": 95 - u * u, "test_acc": 90 - u * u])
        }
        line.close()
        return (twoD.path, oneD.path)
    }

    @Test func plotsEveryKindWithItsSourcesRecorded() throws {
        let directory = try Tool.temporaryDirectory("landscape-plot")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (twoD, oneD) = try Self.surfaces(in: directory)
        let cases: [(arguments: [String], out: String)] = [
            ([twoD], "bowl.png"),
            ([twoD, twoD, "--title", "A", "--title", "B", "--caption", "left", "--caption", "right", "--log"], "pair.png"),
            ([twoD, "--kind", "3d", "--zmax", "2"], "bowl-3d.png"),
            ([oneD], "line.png"),
        ]
        for (arguments, out) in cases {
            let path = directory.appendingPathComponent(out).path
            let result = try Tool.run(["plot"] + arguments + ["--out", path])
            #expect(result.status == 0, "\(arguments): \(result.output)")
            let image = try PNGImage.read(URL(fileURLWithPath: path))
            #expect(image.width > 300 && image.height > 300)
            let chunks = PNGImage.textChunks(of: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            #expect(chunks.contains { $0.keyword == "Source" && $0.value.contains(arguments[0]) })
            #expect(chunks.contains { $0.keyword == "Command" && $0.value.contains("plot") })
        }
        // A 1-D and a 2-D file cannot share a figure.
        let mixed = try Tool.run(["plot", oneD, twoD, "--out", directory.appendingPathComponent("mixed.png").path])
        #expect(mixed.status != 0 && mixed.output.contains(twoD))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("mixed.png").path))
    }

    @Test func readsTheReferenceCodesFiles() throws {
        let directory = try Tool.temporaryDirectory("landscape-plot")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("reference.svg").path
        let result = try Tool.run(["plot", Self.fixtures.appendingPathComponent("reference-square.h5").path, "--out", out])
        #expect(result.status == 0, "\(result.output)")
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains("<svg"))
        let pdf = directory.appendingPathComponent("reference.pdf").path
        #expect(try Tool.run(["plot", Self.fixtures.appendingPathComponent("reference-square.h5").path, "--format", "pdf", "--out", pdf]).status == 0)
        #expect(try String(decoding: Data(contentsOf: URL(fileURLWithPath: pdf)).prefix(5), as: UTF8.self) == "%PDF-")
    }

    @Test func badInputIsAOneLineErrorAndNoFile() throws {
        let directory = try Tool.temporaryDirectory("landscape-plot")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (twoD, _) = try Self.surfaces(in: directory)
        let garbage = directory.appendingPathComponent("garbage.h5")
        try Data("this is not HDF5".utf8).write(to: garbage)
        let out = directory.appendingPathComponent("out.png").path
        let cases: [(arguments: [String], mentions: String)] = [
            ([garbage.path], garbage.path),
            ([directory.appendingPathComponent("absent.h5").path], "absent.h5"),
            ([twoD, "--quantity", "test_loss"], "test_loss"),
            ([Self.fixtures.appendingPathComponent("no-coordinates.h5").path], "no-coordinates.h5"),
            ([twoD, "--levels", "1:0:0.5"], "--levels"),
            ([twoD, "--colormap", "rainbow"], "--colormap"),
        ]
        for (arguments, mentions) in cases {
            let result = try Tool.run(["plot"] + arguments + ["--out", out])
            #expect(result.status != 0, "\(arguments) should fail")
            let lines = result.output.split(separator: "\n").filter { $0.hasPrefix("Error") || $0.contains("error") }
            #expect(lines.count == 1 && lines[0].contains(mentions), "\(arguments): \(result.output)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func exportsMeshes() throws {
        let directory = try Tool.temporaryDirectory("landscape-plot")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (twoD, _) = try Self.surfaces(in: directory)
        for format in ["vtp", "obj"] {
            let out = directory.appendingPathComponent("bowl.\(format)").path
            let result = try Tool.run(["mesh", twoD, "--out", out, "--log", "--zmax", "2"])
            #expect(result.status == 0, "\(result.output)")
            let text = try String(contentsOfFile: out, encoding: .utf8)
            // 21 x 21 points; 400 cells less the 4 around the missing point.
            if format == "obj" {
                #expect(text.split(separator: "\n").filter { $0.hasPrefix("v ") }.count == 441)
                #expect(text.split(separator: "\n").filter { $0.hasPrefix("f ") }.count == 396)
            } else {
                #expect(text.contains("NumberOfPoints=\"441\"") && text.contains("NumberOfPolys=\"396\""))
            }
        }
    }
}
