import Analysis
import Foundation
import LandscapeCore
import Networks
import Testing
import Training

/// A surface run killed with SIGKILL and rerun with the same arguments computes only the missing
/// cells and ends with the same values as an uninterrupted run. Runs the `landscape` executable
/// built beside the tests.
struct SurfaceKillTests {
    /// Whether the progress (plain lines on standard error, one per tenth of the cells) shows some cells done.
    static func started(_ text: String) -> Bool {
        text.split(separator: "\n").contains { line in (line.split(separator: "/").first.flatMap { Int($0) } ?? 0) > 0 }
    }

    @Test("a killed surface run resumes and ends with the same values", .enabled(if: Tool.executable != nil))
    func killAndResume() throws {
        let directory = try Tool.temporaryDirectory("landscape-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Network<Float>(Architecture(family: .mlp, channels: 2, side: 1, hidden: 16))
        network.initialize(seed: 1)
        let checkpoint = directory.appendingPathComponent("mlp.safetensors")
        try Checkpoint.write(network, metadata: [:], to: checkpoint)
        func arguments(_ out: String) -> [String] {
            ["surface", checkpoint.path, "--data", "spirals", "--samples", "500", "--x", "-1:1:31", "--y", "-1:1:31",
             "--threads", "1", "--out", directory.appendingPathComponent(out).path]
        }
        #expect(try Tool.run(arguments("whole.h5")).status == 0)
        try Tool.run(arguments("killed.h5"), killWhen: Self.started)
        let partial = try SurfaceFile.open(directory.appendingPathComponent("killed.h5"))
        let missing = try partial.missingCells().count
        partial.close()
        #expect(missing > 0 && missing < 31 * 31, "the kill should land mid-run; \(missing) cells were missing")
        #expect(try Tool.run(arguments("killed.h5")).status == 0)
        let whole = try SurfaceFile.open(directory.appendingPathComponent("whole.h5"))
        let resumed = try SurfaceFile.open(directory.appendingPathComponent("killed.h5"))
        for quantity in whole.quantities {
            #expect(try whole.values(quantity) == resumed.values(quantity), "\(quantity) differs after resuming")
        }
        #expect(try resumed.missingCells().isEmpty)
    }
}
