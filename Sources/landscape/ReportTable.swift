import Foundation

/// One checkpoint's row of a report: what it is, and each measure's value and time.
struct ReportRow: Codable {
    var name: String
    var checkpoint: String
    var checkpointSHA256: String
    var model: String
    /// "SGD", "SAM (ρ 0.05)", "AdamW", "ASAM (ρ 0.5)".
    var optimizer: String
    var epochs: Int?
    var values: [String: Double] = [:]
    var seconds: [String: Double] = [:]
    /// The Hessian results file (with the density, when computed).
    var hessianFile: String?

    init(name: String, checkpoint: String, checkpointSHA256: String, metadata: [String: String], model: String) {
        self.name = name
        self.checkpoint = checkpoint
        self.checkpointSHA256 = checkpointSHA256
        self.model = model
        optimizer = Self.optimizer(metadata["optimizer"])
        epochs = metadata["epoch"].flatMap { Int($0) }
    }

    mutating func set(_ key: String, _ value: Double, seconds: Double? = nil) {
        values[key] = value
        if let seconds { self.seconds[key] = seconds }
    }

    /// A readable optimizer from the checkpoint's `optimizer` metadata (JSON as `landscape train` writes it).
    static func optimizer(_ json: String?) -> String {
        guard let data = json?.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let name = object["name"] as? String else { return "unknown" }
        let names = ["sgd": "SGD", "adamw": "AdamW", "sam": "SAM", "asam": "ASAM"]
        let base = (object["base"] as? [String: Any])?["name"] as? String
        var text = names[name] ?? name
        if let rho = object["rho"] as? Double { text += " (ρ \(rho)\(base.map { $0 == "sgd" ? "" : ", " + (names[$0] ?? $0) } ?? ""))" }
        return text
    }

    enum CodingKeys: String, CodingKey {
        case name, checkpoint, checkpointSHA256 = "checkpoint_sha256", model, optimizer, epochs, values, seconds, hessianFile = "hessian_file"
    }
}

/// The rows of a report with their columns, written as Markdown, CSV, LaTeX (booktabs) and JSON.
struct ReportTable: Encodable {
    struct Column: Encodable {
        var key: String
        var header: String
        var latex: String
        var digits: Int
    }

    var rows: [ReportRow]
    var columns: [Column]
    var settings: [String: String]

    private func cell(_ row: ReportRow, _ column: Column) -> String {
        row.values[column.key].map { String(format: "%.\(column.digits)f", $0) } ?? ""
    }

    private func time(_ row: ReportRow, _ column: Column) -> String {
        row.seconds[column.key].map { String(format: "%.1f", $0) } ?? ""
    }

    /// Columns that have a time in some row; loss and accuracy share one (the evaluation).
    private var timedColumns: [Column] { columns.filter { c in rows.contains { $0.seconds[c.key] != nil } } }

    var markdown: String {
        func line(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }
        let identity = ["run", "model", "optimizer", "epochs"]
        func ids(_ row: ReportRow) -> [String] { [row.name, row.model, row.optimizer, row.epochs.map(String.init) ?? ""] }
        var lines = [line(identity + columns.map(\.header)), line(identity.map { _ in "---" } + columns.map { _ in "---:" })]
        lines += rows.map { row in line(ids(row) + columns.map { cell(row, $0) }) }
        lines += ["", "Time of each measure (seconds; the loss and accuracy columns share one evaluation):", ""]
        let timed = timedColumns.map { $0.key == "train_loss" ? Column(key: $0.key, header: "loss and accuracy", latex: "", digits: 0) : $0 }
        lines += [line(["run"] + timed.map(\.header)), line(["---"] + timed.map { _ in "---:" })]
        lines += rows.map { row in line([row.name] + timed.map { time(row, $0) }) }
        lines += ["", "Settings:", ""] + settings.keys.sorted().map { "- \($0.replacingOccurrences(of: "_", with: " ")): \(settings[$0]!)" }
        return lines.joined(separator: "\n") + "\n"
    }

    var csv: String {
        func quoted(_ text: String) -> String {
            text.contains(where: { ",\"\n".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        let timed = timedColumns
        var lines = [(["run", "model", "optimizer", "epochs", "checkpoint"] + columns.map(\.key) + timed.map { $0.key + "_seconds" }).joined(separator: ",")]
        for row in rows {
            let identity = [row.name, row.model, row.optimizer, row.epochs.map(String.init) ?? "", row.checkpoint].map(quoted)
            let values = columns.map { c in row.values[c.key].map { String($0) } ?? "" }
            let times = timed.map { c in row.seconds[c.key].map { String($0) } ?? "" }
            lines.append((identity + values + times).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A booktabs table, one row per checkpoint and one column per measure.
    var latex: String {
        func escaped(_ text: String) -> String {
            var result = ""
            for character in text {
                switch character {
                case "\\": result += "\\textbackslash{}"
                case "&", "%", "$", "#", "_", "{", "}": result += "\\\(character)"
                case "ρ": result += "$\\rho$"
                case "~": result += "\\textasciitilde{}"
                default: result.append(character)
                }
            }
            return result
        }
        var lines = [
            "% Requires \\usepackage{booktabs}.",
            "\\begin{tabular}{llll" + String(repeating: "r", count: columns.count) + "}",
            "\\toprule",
            (["run", "model", "optimizer", "epochs"] + columns.map(\.latex)).joined(separator: " & ") + " \\\\",
            "\\midrule",
        ]
        for row in rows {
            let identity = [row.name, row.model, row.optimizer, row.epochs.map(String.init) ?? ""].map(escaped)
            lines.append((identity + columns.map { cell(row, $0) }).joined(separator: " & ") + " \\\\")
        }
        lines += ["\\bottomrule", "\\end{tabular}"]
        return lines.joined(separator: "\n") + "\n"
    }
}
