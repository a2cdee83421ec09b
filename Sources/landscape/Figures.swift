import Analysis
import Foundation
import LandscapeCore
import Rendering

/// Figures made from the analyzer's files: what `landscape plot` draws, and what `landscape demo`
/// renders.
enum Figures {
    /// How a 2D surface is coloured and contoured.
    struct ContourStyle {
        var colormap = Colormap.viridis
        var logScale = false
        var levels: [Double]?
        var labelsIsolines = true
    }

    /// A readable file that is not what the figure needs.
    static func problem(_ path: String, _ text: String) -> FileError { FileError(file: path, problem: text) }

    /// The quantity to show: `requested`, or the training loss, or the first loss, or the first.
    static func quantity(_ requested: String?, in file: SurfaceFile) throws(FileError) -> String {
        if let requested {
            guard file.quantities.contains(requested) else {
                throw problem(file.url.path, "no dataset '\(requested)' (it has \(file.quantities.joined(separator: ", ")))")
            }
            return requested
        }
        guard let chosen = ["train_loss"].first(where: file.quantities.contains) ?? file.quantities.first(where: { $0.hasSuffix("loss") })
            ?? file.quantities.first else { throw problem(file.url.path, "holds no values besides its coordinates") }
        return chosen
    }

    /// A 2D surface file's values of `quantity` as a grid.
    static func grid(_ path: String, quantity requested: String?) throws(FileError) -> (grid: Grid, quantity: String) {
        let file = try SurfaceFile.open(URL(fileURLWithPath: path))
        guard let y = file.y else { throw problem(path, "is a 1-D surface; a contour plot needs a 2-D one (ycoordinates)") }
        guard file.x.count >= 2, y.count >= 2 else { throw problem(path, "needs at least 2 x 2 grid points to draw, has \(file.x.count) x \(y.count)") }
        let quantity = try quantity(requested, in: file)
        return (Grid(x: file.x, y: y, values: try file.values(quantity)), quantity)
    }

    /// What a quantity's axis says: "training loss", "test accuracy (%)".
    static func label(of quantity: String) -> String {
        let parts = quantity.split(separator: "_", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return quantity }
        let split = ["train": "training", "test": "test"][parts[0]] ?? parts[0]
        return parts[1] == "acc" ? "\(split) accuracy (%)" : "\(split) \(parts[1])"
    }

    /// Caption lines for a panel from the analyzer's result files.
    static func caption(sharpness: SharpnessReport?, hessian: HessianReport?) -> [String] {
        var parts: [String] = []
        if let worst = sharpness?.worstCase {
            parts.append(String(format: "worst-case sharpness (ρ %g): %.4f", worst.settings.radius, worst.sharpness))
        }
        if let top = hessian?.eigenvalues?.eigenvalues.first { parts.append(String(format: "λ_max %.2f", top)) }
        if let trace = hessian?.trace { parts.append(String(format: "trace %.1f", trace.trace)) }
        return parts.isEmpty ? [] : [parts.joined(separator: " · ")]
    }

    /// Contour panels of one or more 2D surfaces on one colour scale.
    static func contours(_ paths: [String], quantity: String?, titles: [String], captions: [[String]], style: ContourStyle) throws(FileError) -> ContourFigure {
        var panels: [ContourPanel] = []
        var shown = ""
        for (index, path) in paths.enumerated() {
            let (grid, name) = try grid(path, quantity: quantity)
            shown = name
            panels.append(ContourPanel(grid: grid, title: index < titles.count ? titles[index] : URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
                                       caption: index < captions.count ? captions[index] : []))
        }
        var figure = ContourFigure(panels: panels)
        figure.colorbarLabel = label(of: shown)
        apply(style, to: &figure)
        return figure
    }

    static func apply(_ style: ContourStyle, to figure: inout ContourFigure) {
        figure.colormap = style.colormap
        figure.logScale = style.logScale
        figure.levels = style.levels ?? (figure.colorbarLabel.hasSuffix("loss") && !style.logScale ? ContourLevels.reference : nil)
        figure.labelsIsolines = style.labelsIsolines
    }

    /// A trajectory (the JSON of `landscape trajectory`) over the contours of the surface in its
    /// plane (PREFIX.h5 beside it), axes labelled with each component's share of the variance.
    static func trajectory(_ path: String, quantity: String?, title: String?, style: ContourStyle) throws(FileError) -> ContourFigure {
        let trajectory = try decode(Trajectory.self, path)
        let surface = URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension("h5").path
        guard FileManager.default.fileExists(atPath: surface) else {
            throw problem(surface, "missing: the trajectory's surface (run `landscape trajectory` with --points above 0)")
        }
        let (grid, name) = try grid(surface, quantity: quantity)
        let labels = trajectory.checkpoints.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent.replacingOccurrences(of: "epoch-", with: "") }
        let panel = ContourPanel(grid: grid, title: title ?? "training trajectory", path: zip(trajectory.x, trajectory.y).map { (x: $0, y: $1) },
                                 pathLabels: labels.enumerated().map { $0.offset == 0 || $0.offset == labels.count - 1 ? $0.element : "" })
        var figure = ContourFigure(panels: [panel])
        let ratio = trajectory.explainedVarianceRatio
        figure.xLabel = String(format: "1st PCA component: %.1f%% of variance", 100 * ratio[0])
        figure.yLabel = String(format: "2nd PCA component: %.1f%% of variance", 100 * ratio[1])
        figure.colorbarLabel = label(of: name)
        apply(style, to: &figure)
        return figure
    }

    /// Curves of 1D surfaces: one file shows loss and accuracy of each split; several show the
    /// chosen quantity (and its accuracy) for each file. Interpolations mark the two solutions.
    static func curves(_ paths: [String], quantity: String?, titles: [String], logScale: Bool) throws(FileError) -> CurveFigure {
        var curves: [Curve] = []
        var marks: [(x: Double, label: String)] = []
        var xLabel = "step along the direction"
        var shownLoss = "loss"
        for (index, path) in paths.enumerated() {
            let file = try SurfaceFile.open(URL(fileURLWithPath: path))
            guard file.y == nil else { throw problem(path, "is a 2-D surface; plot it as contours (or --kind 3d)") }
            let attributes = try file.attributes()
            let name = index < titles.count ? titles[index] : URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let chosen = try Self.quantity(quantity, in: file)
            let splits = paths.count == 1 ? ["train", "test"].filter { file.quantities.contains("\($0)_loss") } : []
            let losses = splits.isEmpty ? [chosen] : splits.map { "\($0)_loss" }
            for (k, loss) in losses.enumerated() {
                let color = paths.count == 1 ? k : index
                let prefix = paths.count == 1 ? label(of: loss) : "\(name): \(label(of: loss))"
                curves.append(Curve(label: prefix, x: file.x, y: try file.values(loss), colorIndex: color))
                let accuracy = loss.replacingOccurrences(of: "_loss", with: "_acc")
                if accuracy != loss, file.quantities.contains(accuracy) {
                    curves.append(Curve(label: paths.count == 1 ? label(of: accuracy) : "\(name): \(label(of: accuracy))",
                                        x: file.x, y: try file.values(accuracy), onRightAxis: true, dashed: true, colorIndex: color))
                }
                shownLoss = label(of: loss)
            }
            if let end = attributes["checkpoint_end"], let start = attributes["checkpoint"] {
                xLabel = "α in (1 - α) w₁ + α w₂"
                marks = [(0, "w₁ " + runName(start)), (1, "w₂ " + runName(end))]
            }
        }
        var figure = CurveFigure(curves: curves)
        figure.xLabel = xLabel
        figure.yLabel = curves.count(where: { !$0.onRightAxis }) == 1 || paths.count > 1 ? shownLoss : "loss"
        figure.logScale = logScale
        figure.marks = marks
        return figure
    }

    /// The run a checkpoint belongs to, for labels: "sgd/final".
    static func runName(_ checkpoint: String) -> String {
        let url = URL(fileURLWithPath: checkpoint).deletingPathExtension()
        return url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent
    }

    /// Mean and spread over several directions (the `.statistics.json` of `landscape surface --directions N`).
    static func spread(_ path: String, logScale: Bool) throws(FileError) -> CurveFigure {
        struct Statistics: Decodable { var x: [Double], mean: [Double], std: [Double], directions: Int }
        let statistics = try decode(Statistics.self, path)
        var figure = CurveFigure(curves: [Curve(label: "mean ± std over \(statistics.directions) directions", x: statistics.x, y: statistics.mean, spread: statistics.std)])
        figure.logScale = logScale
        return figure
    }

    /// The Hessian eigenvalue densities of `landscape hessian --density` reports, one curve each.
    static func density(_ paths: [String], labels: [String], title: String?) throws(FileError) -> CurveFigure {
        var curves: [Curve] = []
        var marks: [(x: Double, label: String)] = []
        for (index, path) in paths.enumerated() {
            let report = try decode(HessianReport.self, path)
            guard let density = report.density else { throw problem(path, "holds no eigenvalue density (run `landscape hessian --density`)") }
            // The density spans many decades; a floor keeps the log scale readable.
            let floor = (density.density.max() ?? 1) * 1e-7
            let label = index < labels.count ? labels[index] : (paths.count > 1 ? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent : "")
            curves.append(Curve(label: label, x: density.grid, y: density.density.map { max($0, floor) }, colorIndex: index))
            if let top = report.eigenvalues?.eigenvalues.first {
                marks.append((top, String(format: "%@λ_max %.2f", label.isEmpty ? "" : label + " ", top)))
            }
        }
        guard !curves.isEmpty else { throw problem("--density", "no Hessian report given") }
        var figure = CurveFigure(curves: curves)
        figure.title = title ?? "Hessian eigenvalue density"
        figure.xLabel = "eigenvalue"
        figure.yLabel = "density"
        figure.logScale = true
        figure.marks = marks
        return figure
    }

    /// Writes a drawn figure: the format from `format` or the file's extension; the sources and the
    /// command go into the PNG's text chunks or the PDF's document information.
    static func write(_ canvas: Canvas, to path: String, sources: [String]) throws(FileError) {
        try canvas.write(to: URL(fileURLWithPath: path), metadata: [
            ("Software", "landscape"), ("Source", sources.joined(separator: ", ")), ("Command", commandLine),
        ])
    }
}
