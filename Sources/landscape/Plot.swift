import Analysis
import ArgumentParser
import Foundation
import LandscapeCore
import Rendering

/// `landscape plot`: figures from surface, trajectory and Hessian files, as PNG, SVG or PDF.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plot surfaces (ours or the reference loss-landscape code's HDF5), trajectories and Hessian densities as PNG, SVG or PDF.",
        discussion: """
            What is drawn follows the files: a 2-D surface gives filled contours with labelled isolines (several give \
            panels side by side on one colour scale), a 1-D surface or interpolation gives curves of loss and accuracy, \
            a trajectory JSON gives the path over the contours of its plane, a `.statistics.json` gives the mean and \
            spread over several directions, and a Hessian report with a density gives the eigenvalue density. \
            --kind 3d draws a 2-D surface in perspective instead.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case auto, contour, curve, trajectory, density, spread, surface3d = "3d" }

    @Argument(help: "Input files: .h5 surfaces, a trajectory .json, a .statistics.json or a hessian .json.")
    var files: [String]
    @Option(help: "What to draw: auto (from the files), contour, curve, trajectory, density, spread or 3d.")
    var kind: Kind = .auto
    @Option(help: "The dataset to show, e.g. train_loss, test_loss, train_acc (default: train_loss).")
    var quantity: String?
    @Option(help: ArgumentHelp("Output file; the extension picks the format unless --format is given (default: the first input with .png).", valueName: "file"))
    var out: String?
    @Option(help: "png, svg or pdf.")
    var format: String?
    @Flag(help: "Logarithmic colour scale and log-spaced levels (or a log y axis for curves).")
    var log = false
    @Option(help: "Isoline levels MIN:MAX:STEP (with --log: MIN:MAX:COUNT, spaced evenly in log scale). Default for a loss: 0.1:10:0.5 as the reference code; else chosen from the data.")
    var levels: String?
    @Option(help: "viridis, magma, inferno, plasma or cividis.")
    var colormap = "viridis"
    @Flag(help: "Isolines without their level written on them.")
    var noIsolineLabels = false
    @Option(name: .customLong("title"), help: "A panel's title (repeat for each input).")
    var titles: [String] = []
    @Option(name: .customLong("caption"), help: "A panel's caption (repeat for each input; replaces the one from --sharpness/--hessian).")
    var captions: [String] = []
    @Option(help: "A `landscape sharpness` report per panel, for its caption (repeat for each input).")
    var sharpness: [String] = []
    @Option(help: "A `landscape hessian` report per panel, for its caption (repeat for each input).")
    var hessian: [String] = []
    @Option(help: "3d: clip values above this (the reference converter's zmax).")
    var zmax: Double?
    @Option(help: "3d: camera angle around the vertical, degrees.")
    var azimuth = -60.0
    @Option(help: "3d: camera angle above the floor, degrees.")
    var elevation = 30.0

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one input file") }
        if let format, ImageFormat(rawValue: format) == nil { throw ValidationError("--format must be png, svg or pdf, not '\(format)'") }
        if Colormap.named(colormap) == nil {
            throw ValidationError("--colormap must be one of \(Colormap.all.map(\.name).joined(separator: ", ")), not '\(colormap)'")
        }
        if !captions.isEmpty && captions.count != files.count { throw ValidationError("give one --caption per input file (\(files.count))") }
        for (name, list) in [("--sharpness", sharpness), ("--hessian", hessian)] where !list.isEmpty && list.count != files.count {
            throw ValidationError("give one \(name) per input file (\(files.count))")
        }
        _ = try parsedLevels()
    }

    func run() throws {
        for file in files where !FileManager.default.fileExists(atPath: file) { throw FileError(file: file, problem: "no such file") }
        let kind = self.kind == .auto ? try detectedKind() : self.kind
        let output = out ?? URL(fileURLWithPath: files[0]).deletingPathExtension().path + (kind == .surface3d ? "-3d" : "") + ".png"
        let formatName = format ?? URL(fileURLWithPath: output).pathExtension.lowercased()
        guard let imageFormat = ImageFormat(rawValue: formatName) else {
            throw ValidationError("--out \(output): the extension must be .png, .svg or .pdf (or give --format)")
        }
        var style = Figures.ContourStyle()
        style.colormap = Colormap.named(colormap)!
        style.logScale = log
        style.levels = try parsedLevels()
        style.labelsIsolines = !noIsolineLabels
        let canvas: Canvas
        switch kind {
        case .contour, .auto:
            canvas = try Figures.contours(files, quantity: quantity, titles: titles, captions: try panelCaptions(), style: style).render(imageFormat)
        case .curve:
            canvas = try Figures.curves(files, quantity: quantity, titles: titles, logScale: log).render(imageFormat)
        case .trajectory:
            canvas = try Figures.trajectory(files[0], quantity: quantity, title: titles.first, style: style).render(imageFormat)
        case .density:
            canvas = try Figures.density(files, labels: titles, title: nil).render(imageFormat)
        case .spread:
            canvas = try Figures.spread(files[0], logScale: log).render(imageFormat)
        case .surface3d:
            let (grid, name) = try Figures.grid(files[0], quantity: quantity)
            var view = SurfaceView(grid: grid)
            view.title = titles.first ?? ""
            view.zLabel = Figures.label(of: name)
            view.colormap = style.colormap
            view.logScale = log
            view.maximum = zmax
            view.azimuth = azimuth
            view.elevation = elevation
            canvas = view.render(imageFormat)
        }
        try Figures.write(canvas, to: output, sources: files)
        say("wrote \(output)")
    }

    /// What the files are: by extension and, for JSON, by their keys; for HDF5, by their dimension.
    private func detectedKind() throws -> Kind {
        let first = files[0]
        if first.hasSuffix(".statistics.json") { return .spread }
        if first.hasSuffix(".json") {
            let object = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: first))) as? [String: Any]
            if object?["explained_variance_ratio"] != nil { return .trajectory }
            if object?["density"] != nil { return .density }
            throw FileError(file: first, problem: "not a trajectory, statistics or Hessian-density file")
        }
        let file = try SurfaceFile.open(URL(fileURLWithPath: first))
        return file.y == nil ? .curve : .contour
    }

    private func parsedLevels() throws -> [Double]? {
        guard let levels else { return nil }
        let parts = levels.split(separator: ":").map { Double($0) }
        guard parts.count == 3, let low = parts[0], let high = parts[1], let third = parts[2], low < high, third > 0,
              !log || (low > 0 && third >= 2 && third <= 200), log || (high - low) / third <= 1000 else {
            throw ValidationError(log ? "--levels must be MIN:MAX:COUNT with 0 < MIN < MAX and 2 <= COUNT <= 200, not '\(levels)'"
                                      : "--levels must be MIN:MAX:STEP with MIN < MAX, STEP > 0 and at most 1000 levels, not '\(levels)'")
        }
        return log ? ContourLevels.logarithmic(from: low, to: high, count: Int(third)) : ContourLevels.linear(from: low, to: high, step: third)
    }

    private func panelCaptions() throws -> [[String]] {
        if !captions.isEmpty { return captions.map { [$0] } }
        guard !sharpness.isEmpty || !hessian.isEmpty else { return [] }
        return try files.indices.map { index in
            let report = try sharpness.isEmpty ? nil : decode(SharpnessReport.self, sharpness[index])
            let spectrum = try hessian.isEmpty ? nil : decode(HessianReport.self, hessian[index])
            return Figures.caption(sharpness: report, hessian: spectrum)
        }
    }
}
