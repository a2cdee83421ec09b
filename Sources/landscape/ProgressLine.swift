import LandscapeCore
import Foundation

/// Progress on standard error: one line rewritten in place on a terminal (at most ten times a
/// second), plain lines at every tenth of the work otherwise, so logs stay short.
struct ProgressLine {
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var lastTenth = -1

    /// Seconds since the line was created.
    var elapsed: Double {
        WallClock.seconds(since: start)
    }

    /// Shows `done` of `total` with a text after it.
    mutating func update(_ done: Int, of total: Int, _ text: String) {
        let now = ContinuousClock.now
        if isTerminal {
            guard done == total || now - lastDraw > .milliseconds(100) else { return }
            lastDraw = now
            let width = 24
            let filled = total == 0 ? width : width * done / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let eta = done == 0 ? 0 : elapsed * Double(total - done) / Double(done)
            write("\r[\(bar)] \(done)/\(total) \(text) ETA \(Self.clock(eta))\u{1B}[K" + (done == total ? "\n" : ""))
        } else {
            let tenth = total == 0 ? 10 : 10 * done / total
            guard tenth > lastTenth else { return }
            lastTenth = tenth
            write("\(done)/\(total) \(text)\n")
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return String(format: "%d:%02d", total / 60, total % 60)
    }
}

/// Writes a line to standard output at once (unbuffered), so results stay in order with the
/// progress on standard error when both go to one log.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
