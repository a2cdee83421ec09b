import Foundation
import LandscapeCore
import Testing

/// `--threads` of the commands that evaluate many points: one worker per processor the process may
/// use by default, which an affinity mask (`taskset`, a container's cpuset) narrows.
struct ThreadOptionTests {
    static let taskset = ["/usr/bin/taskset", "/bin/taskset"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// What `landscape` prints with `arguments`, run on the processors `cpus` (a `taskset` list).
    static func run(_ arguments: [String], on cpus: String) throws -> (status: Int32, output: String) {
        try Tool.run(arguments, through: [try #require(taskset), "-c", cpus])
    }

    @Test("the default is the processors the affinity mask allows", .enabled(if: Tool.executable != nil && taskset != nil),
          arguments: ["surface", "interpolate", "trajectory"])
    func defaultFollowsAffinity(_ command: String) throws {
        let pinned = try Self.run([command, "--help"], on: "0")
        #expect(pinned.status == 0)
        #expect(pinned.output.contains("(default: 1)"), "\(pinned.output)")
        let all = try Self.run([command, "--help"], on: "0-\(WorkerThreads.processors - 1)")
        #expect(all.output.contains("(default: \(WorkerThreads.processors))"))
    }

    @Test("--threads 0 is refused with one line naming the option", .enabled(if: Tool.executable != nil),
          arguments: [["surface", "a.safetensors"], ["interpolate", "a.safetensors", "b.safetensors"], ["trajectory", "run"]])
    func zeroRefused(_ command: [String]) throws {
        let result = try Tool.run(command + ["--threads", "0"])
        #expect(result.status != 0)
        #expect(result.output.contains("--threads must be at least 1, got 0"), "\(result.output)")
    }
}
