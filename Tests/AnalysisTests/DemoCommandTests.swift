import Foundation
import Rendering
import Testing

/// `landscape demo --preset smoke` and `landscape report` end to end, on a small MNIST-format data
/// set the test writes (28 x 28 images whose class is a bright bar's row).
@Suite(.enabled(if: Tool.executable != nil), .serialized)
struct DemoCommandTests {
    /// Writes train (300) and test (100) splits in MNIST's IDX format into `root/data` and returns it.
    static func writeData(in root: URL) throws -> URL {
        let directory = root.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func idx(_ dimensions: [UInt32], _ data: [UInt8]) -> Data {
            var bytes: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
            for d in dimensions { bytes += [UInt8(d >> 24), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
            return Data(bytes + data)
        }
        for (prefix, count) in [("train", 300), ("t10k", 100)] {
            var images: [UInt8] = []
            var labels: [UInt8] = []
            var state: UInt32 = prefix == "train" ? 1 : 2
            for n in 0..<count {
                let label = n % 10
                labels.append(UInt8(label))
                for row in 0..<28 {
                    for _ in 0..<28 {
                        state = state &* 1_664_525 &+ 1_013_904_223
                        let noise = UInt8(state >> 26)
                        images.append(row / 2 == label + 2 ? 200 &+ noise : noise)
                    }
                }
            }
            try idx([UInt32(count), 28, 28], images).write(to: directory.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
            try idx([UInt32(count)], labels).write(to: directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
        }
        return directory
    }

    @Test func demoMakesEveryFigureAndReusesItsWork() throws {
        let root = try Tool.temporaryDirectory("landscape-demo")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try Self.writeData(in: root)
        let output = root.appendingPathComponent("output")
        let arguments = ["demo", "--preset", "smoke", "--data", data.path, "--work", root.appendingPathComponent("runs").path, "--output", output.path]
        let first = try Tool.run(arguments)
        #expect(first.status == 0, "\(first.output.suffix(2000))")
        let figures = ["surfaces-2d", "curves-1d", "interpolation", "hessian-density", "trajectory-sgd", "trajectory-sam", "surface-3d-sgd", "surface-3d-sam"]
        for name in figures {
            let image = try PNGImage.read(output.appendingPathComponent("\(name).png"))
            #expect(image.width >= 600 && image.height >= 400, "\(name): \(image.width)x\(image.height)")
        }
        let report = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        for name in figures { #expect(report.contains("(\(name).png)")) }
        #expect(report.contains("| SGD | cnn | SGD | 3 |") && report.contains("| SAM | cnn | SAM (ρ 0.05) | 3 |"))
        for format in ["csv", "tex", "json"] { #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("report.\(format)").path)) }

        // A second run trains nothing and recomputes no measure.
        let second = try Tool.run(arguments)
        #expect(second.status == 0)
        #expect(second.output.components(separatedBy: "has finished all 3 epoch(s)").count == 3)
        #expect(second.output.components(separatedBy: "reusing").count - 1 == 2 * 6, "evaluation, 4 sharpness measures and the Hessian, twice")
        #expect(!second.output.contains("Lanczos"))
    }

    @Test func reportWritesFourFormatsAndRecomputesOnlyWhatChanged() throws {
        let root = try Tool.temporaryDirectory("landscape-demo")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try Self.writeData(in: root)
        let run = root.appendingPathComponent("run").path
        #expect(try Tool.run(["train", "--model", "mlp", "--data", data.path, "--epochs", "1", "--out", run]).status == 0)
        let out = root.appendingPathComponent("report").path
        func report(_ rho: String) throws -> (status: Int32, output: String) {
            try Tool.run(["report", run + "/final.safetensors", "--data", data.path, "--samples", "50", "--rho", rho, "--steps", "2",
                          "--noise-samples", "4", "--trace-samples", "3", "--out", out])
        }
        let first = try report("0.05")
        #expect(first.status == 0, "\(first.output.suffix(1500))")
        let csv = try String(contentsOfFile: out + ".csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 2 && csv[0].split(separator: ",").count == csv[1].split(separator: ",", omittingEmptySubsequences: false).count)
        #expect(csv[0].contains("worst_case_rho0.05") && csv[0].contains("lambda_max") && csv[0].contains("hessian_trace_seconds"))
        let tex = try String(contentsOfFile: out + ".tex", encoding: .utf8)
        #expect(tex.contains("\\toprule") && tex.contains("\\midrule") && tex.contains("\\bottomrule") && tex.contains("$\\lambda_{\\max}$"))
        let markdown = try String(contentsOfFile: out + ".md", encoding: .utf8)
        #expect(markdown.contains("| run | model | optimizer | epochs |") && markdown.contains("| run | mlp | SGD | 1 |"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + ".json"))) as? [String: Any]
        let rows = json?["rows"] as? [[String: Any]]
        #expect(rows?.count == 1 && (rows?[0]["values"] as? [String: Double])?["lambda_max"] != nil)

        let again = try report("0.05,0.1")
        #expect(again.status == 0)
        #expect(again.output.components(separatedBy: "reusing").count - 1 == 6, "all but the new radius: \(again.output.suffix(800))")
        #expect(try String(contentsOfFile: out + ".csv", encoding: .utf8).contains("worst_case_rho0.1"))
    }
}
