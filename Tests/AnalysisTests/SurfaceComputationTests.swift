import Analysis
import Foundation
import LandscapeCore
import Networks
import Testing
import Training

/// Loss surfaces computed into surface files: values checked against evaluating the perturbed
/// weights by hand, independence from the number of threads, resuming a stopped run, and the
/// checks that keep a resumed run from mixing grids or settings.
struct SurfaceComputationTests {
    /// A small initialized mlp on two features.
    static func network() -> Network<Float> {
        let network = Network<Float>(Architecture(family: .mlp, channels: 2, side: 1, hidden: 8))
        network.initialize(seed: 1)
        return network
    }

    static let train = SyntheticData.twoSpirals(count: 64, noise: 0.05, seed: 0)
    static let test = SyntheticData.twoSpirals(count: 40, noise: 0.05, seed: 0, split: .test)

    static let attributes = ["checkpoint": "mlp.safetensors", "normalization": "filter", "command": "landscape surface mlp.safetensors"]

    /// Two filter-normalized directions, the second orthogonal to the first.
    static func directions(for network: Network<Float>) -> (Direction, Direction) {
        let first = Direction.random(like: network, seed: 11)
        let second = Direction.random(like: network, seed: 12).orthogonalized(to: first)
        return (first, second)
    }

    /// A fresh directory for one test's files.
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("SurfaceComputationTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The point `w + a d1 + b d2`, with the same arithmetic as a surface cell.
    static func point(_ origin: [Double], _ a: Double, _ d1: Direction, _ b: Double, _ d2: Direction?) -> [Double] {
        origin.indices.map { origin[$0] + a * d1.parameters[$0] + b * (d2?.parameters[$0] ?? 0) }
    }

    /// Every quantity's values.
    static func contents(_ file: SurfaceFile) throws -> [String: [Double]] {
        var contents: [String: [Double]] = [:]
        for quantity in file.quantities { contents[quantity] = try file.values(quantity) }
        return contents
    }

    /// Progress calls, recorded from the worker threads.
    final class ProgressLog: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [[Int]] = []
        func record(_ done: Int, _ total: Int) {
            lock.lock()
            entries.append([done, total])
            lock.unlock()
        }
        var calls: [[Int]] {
            lock.lock()
            defer { lock.unlock() }
            return entries
        }
    }

    /// Runs a computation into a new file at `url` and returns the file, still open.
    static func compute(_ computation: SurfaceComputation, into url: URL, attributes: [String: String] = attributes,
                        progress: ProgressLog? = nil) throws -> SurfaceFile {
        let file = try SurfaceFile.openOrCreate(url, x: computation.x, y: computation.y, quantities: computation.quantities,
                                                attributes: attributes)
        try computation.run(into: file) { done, total in progress?.record(done, total) }
        return file
    }

    @Test("the centre of a surface is the loss and accuracy of the unperturbed network")
    func centre() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Self.network()
        let (d1, d2) = Self.directions(for: network)
        let axis = try GridAxis(argument: "-1:1:5").values
        #expect(axis[2] == 0)
        let computation = SurfaceComputation(network: network, x: axis, y: axis, directions: (d1, d2), sets: [("train", Self.train)])
        #expect(computation.quantities == ["train_loss", "train_acc"])
        let file = try Self.compute(computation, into: directory.appendingPathComponent("centre.h5"))
        #expect(try file.missingCells().isEmpty)

        let objective = NetworkObjective(network: network.copy(), data: Self.train)
        let expected = objective.evaluation(at: objective.origin)
        #expect(try file.values("train_loss")[2 * 5 + 2] == expected.loss)
        #expect(try file.values("train_acc")[2 * 5 + 2] == expected.accuracy)
        #expect(expected.loss > 0)
        // The directions do move the loss: the other cells hold other values.
        #expect(Set(try file.values("train_loss")).count > 1)
    }

    @Test("a 1-D surface is w + a d evaluated by hand at each a")
    func oneDimensional() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Self.network()
        let (d, _) = Self.directions(for: network)
        let x = try GridAxis(argument: "-1.5:1:11").values
        let computation = SurfaceComputation(network: network, x: x, y: nil, directions: (d, nil),
                                             sets: [("train", Self.train), ("test", Self.test)])
        let file = try Self.compute(computation, into: directory.appendingPathComponent("line.h5"))
        #expect(file.y == nil)
        #expect(file.shape == (ny: 1, nx: 11))
        #expect(file.x == x)

        let trainObjective = NetworkObjective(network: network.copy(), data: Self.train)
        let testObjective = NetworkObjective(network: network.copy(), data: Self.test)
        let origin = trainObjective.origin
        let (trainLoss, trainAccuracy) = (try file.values("train_loss"), try file.values("train_acc"))
        let (testLoss, testAccuracy) = (try file.values("test_loss"), try file.values("test_acc"))
        for (i, a) in x.enumerated() {
            let point = Self.point(origin, a, d, 0, nil)
            let train = trainObjective.evaluation(at: point), test = testObjective.evaluation(at: point)
            #expect(trainLoss[i] == train.loss, "train loss at a = \(a)")
            #expect(trainAccuracy[i] == train.accuracy, "train accuracy at a = \(a)")
            #expect(testLoss[i] == test.loss, "test loss at a = \(a)")
            #expect(testAccuracy[i] == test.accuracy, "test accuracy at a = \(a)")
        }
    }

    @Test("a 2-D non-square grid holds the value at (x[i], y[j]) at index j * nx + i")
    func nonSquareGrid() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Self.network()
        let (d1, d2) = Self.directions(for: network)
        let x = try GridAxis(argument: "-1:1:5").values, y = try GridAxis(argument: "0:1.5:3").values
        let computation = SurfaceComputation(network: network, x: x, y: y, directions: (d1, d2), sets: [("train", Self.train)])
        let file = try Self.compute(computation, into: directory.appendingPathComponent("grid.h5"))
        #expect(file.shape == (ny: 3, nx: 5))
        let loss = try file.values("train_loss"), accuracy = try file.values("train_acc")
        #expect(loss.count == 15)

        let objective = NetworkObjective(network: network.copy(), data: Self.train)
        let origin = objective.origin
        // One asymmetric cell spelled out: i = 4 (x = 1), j = 1 (y = 0.75).
        let corner = objective.evaluation(at: Self.point(origin, 1, d1, 0.75, d2))
        #expect(loss[1 * 5 + 4] == corner.loss)
        #expect(accuracy[1 * 5 + 4] == corner.accuracy)
        // Its transposed reading is another point.
        #expect(loss[4 * 3 + 1] != corner.loss)
        // And every cell.
        for j in 0..<3 {
            for i in 0..<5 {
                let expected = objective.evaluation(at: Self.point(origin, x[i], d1, y[j], d2))
                #expect(loss[j * 5 + i] == expected.loss, "train_loss at (\(i), \(j))")
                #expect(accuracy[j * 5 + i] == expected.accuracy, "train_acc at (\(i), \(j))")
            }
        }
    }

    @Test("one thread and two threads write bit-identical files")
    func threads() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Self.network()
        let (d1, d2) = Self.directions(for: network)
        let x = try GridAxis(argument: "-1:1:7").values, y = try GridAxis(argument: "-0.5:0.5:4").values
        var files: [SurfaceFile] = []
        for threads in [1, 2] {
            let computation = SurfaceComputation(network: network, x: x, y: y, directions: (d1, d2),
                                                 sets: [("train", Self.train), ("test", Self.test)], threads: threads, batchSize: 24)
            let log = ProgressLog()
            files.append(try Self.compute(computation, into: directory.appendingPathComponent("threads-\(threads).h5"), progress: log))
            #expect(log.calls.count == 1 + 28)
            #expect(log.calls.first == [0, 28])
            #expect(log.calls.last == [28, 28])
            #expect(log.calls.map { $0[0] } == Array(0...28))
        }
        #expect(files[0].quantities == ["test_acc", "test_loss", "train_acc", "train_loss"])
        #expect(files[1].quantities == files[0].quantities)
        let (one, two) = (try Self.contents(files[0]), try Self.contents(files[1]))
        for quantity in files[0].quantities {
            let a = try #require(one[quantity]), b = try #require(two[quantity])
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(quantity)")
            #expect(!a.contains(-1), "\(quantity)")
        }
        #expect(files[0].x == files[1].x && files[0].y == files[1].y)
        #expect(try files[0].attributes() == files[1].attributes())
    }

    @Test("a run resumed on a part-filled file computes only the missing cells and ends identical")
    func resume() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Self.network()
        let (d1, d2) = Self.directions(for: network)
        let x = try GridAxis(argument: "-1:1:5").values, y = try GridAxis(argument: "-1:1:4").values
        let computation = SurfaceComputation(network: network, x: x, y: y, directions: (d1, d2),
                                             sets: [("train", Self.train), ("test", Self.test)], threads: 2)
        let url = directory.appendingPathComponent("resumed.h5")
        let whole = try Self.compute(computation, into: url)
        let uninterrupted = try Self.contents(whole)
        whole.close()

        // A run stopped part way: some cells never written, one written for only some quantities.
        let erased = [(i: 0, j: 0), (i: 3, j: 1), (i: 4, j: 3), (i: 1, j: 3)]
        let stopped = try SurfaceFile.open(url, writable: true)
        for cell in erased {
            try stopped.write(i: cell.i, j: cell.j, Dictionary(uniqueKeysWithValues: stopped.quantities.map { ($0, -1.0) }))
        }
        try stopped.write(i: 2, j: 2, ["test_acc": -1])
        let missing = try stopped.missingCells().map { [$0.i, $0.j] }
        #expect(missing == [[0, 0], [3, 1], [2, 2], [1, 3], [4, 3]])
        stopped.close()

        // The command line may be spelled differently on the rerun.
        var attributes = Self.attributes
        attributes["command"] = "landscape surface ./mlp.safetensors --threads 2"
        let log = ProgressLog()
        let resumed = try Self.compute(computation, into: url, attributes: attributes, progress: log)
        #expect(log.calls.count == 1 + 5)
        #expect(log.calls.first == [15, 20])
        #expect(log.calls.map { $0[0] } == Array(15...20))
        #expect(try resumed.missingCells().isEmpty)
        let after = try Self.contents(resumed)
        for (quantity, values) in uninterrupted {
            #expect(after[quantity]?.map(\.bitPattern) == values.map(\.bitPattern), "\(quantity)")
        }
        // The attributes stay those of the first run.
        #expect(try resumed.attributes() == Self.attributes)

        // Nothing left: a rerun only reports that all is done.
        let idle = ProgressLog()
        try computation.run(into: resumed) { idle.record($0, $1) }
        #expect(idle.calls == [[20, 20]])
    }

    static let gridX = [-1, 0, 1.0], gridY = [-1, 0, 1.0], gridQuantities = ["train_loss", "train_acc"]

    @Test("openOrCreate refuses an existing file with another grid, quantities or settings")
    func refusesMismatch() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("surface.h5")
        let (x, y, quantities) = (Self.gridX, Self.gridY, Self.gridQuantities)
        let created = try SurfaceFile.openOrCreate(url, x: x, y: y, quantities: quantities, attributes: Self.attributes)
        try created.write(i: 1, j: 1, ["train_loss": 2, "train_acc": 50])
        created.close()

        func refused(x: [Double] = Self.gridX, y: [Double]? = Self.gridY, quantities: [String] = Self.gridQuantities,
                     attributes: [String: String] = Self.attributes, _ what: String) {
            #expect(throws: AnalysisError.self, "\(what)") {
                try SurfaceFile.openOrCreate(url, x: x, y: y, quantities: quantities, attributes: attributes)
            }
        }
        var otherNormalization = Self.attributes
        otherNormalization["normalization"] = "layer"
        refused(attributes: otherNormalization, "another attribute value")
        var extra = Self.attributes
        extra["seed"] = "3"
        refused(attributes: extra, "an extra attribute")
        refused(attributes: Self.attributes.filter { $0.key != "checkpoint" }, "a missing attribute")
        refused(x: [-1, 0, 0.5], "another x grid")
        refused(x: [-1, -0.5, 0, 0.5, 1], "a longer x grid")
        refused(y: [-1, 0, 2], "another y grid")
        refused(y: nil, "a 1-D grid")
        refused(quantities: ["train_loss", "train_acc", "test_loss", "test_acc"], "more quantities")
        refused(quantities: ["train_loss"], "fewer quantities")

        // The refusals left the file as it was, and a matching request (quantities in any order, the
        // command spelled differently) reopens it.
        var command = Self.attributes
        command["command"] = "something else"
        let reopened = try SurfaceFile.openOrCreate(url, x: x, y: y, quantities: ["train_acc", "train_loss"], attributes: command)
        #expect(try reopened.values("train_loss") == [-1, -1, -1, -1, 2, -1, -1, -1, -1])
        #expect(try reopened.attributes() == Self.attributes)
        reopened.close()
        // Unless the command is among the attributes that must match.
        #expect(throws: AnalysisError.self) {
            try SurfaceFile.openOrCreate(url, x: x, y: y, quantities: quantities, attributes: command, ignoring: [])
        }
    }

    @Test("computing a surface leaves the network's parameters and statistics unchanged")
    func networkUnchanged() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Self.network()
        let parameters = Array(network.parameters.elements), state = Array(network.state.elements)
        let (d1, d2) = Self.directions(for: network)
        for threads in [1, 2] {
            let computation = SurfaceComputation(network: network, x: [-1, 0.5, 2], y: [-2, 1], directions: (d1, d2),
                                                 sets: [("train", Self.train)], threads: threads)
            let file = try Self.compute(computation, into: directory.appendingPathComponent("surface-\(threads).h5"))
            #expect(try file.missingCells().isEmpty)
            #expect(network.parameters.elements.map(\.bitPattern) == parameters.map(\.bitPattern))
            #expect(network.state.elements.map(\.bitPattern) == state.map(\.bitPattern))
            #expect(computation.network === network)
        }
    }
}
