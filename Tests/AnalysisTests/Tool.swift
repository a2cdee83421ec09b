import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `landscape` executable built beside the tests, run as a user would.
enum Tool {
    static let executable: URL? = {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidate = directory.appendingPathComponent("landscape")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }()

    /// A fresh directory for one test's files; the caller removes it.
    static func temporaryDirectory(_ prefix: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Runs the tool to the end and returns its exit status and what it printed (standard output
    /// and error together); with `launcher` (a program and its arguments, such as `taskset -c 0`),
    /// through it; with `killWhen`, kills it with SIGKILL as soon as the text so far satisfies the
    /// condition.
    @discardableResult
    static func run(_ arguments: [String], through launcher: [String] = [], killWhen: ((String) -> Bool)? = nil)
        throws -> (status: Int32, output: String) {
        let process = Process()
        if let program = launcher.first, let executable {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = launcher.dropFirst() + [executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        let printed = Pipe()
        process.standardOutput = printed
        process.standardError = printed
        try process.run()
        var text = ""
        while let killWhen {
            let chunk = printed.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if killWhen(text) {
                kill(process.processIdentifier, SIGKILL)
                break
            }
        }
        text += String(decoding: printed.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
