import Analysis
import Foundation
import LandscapeCore
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Surface files: creating, writing cell by cell, resuming, and reading the reference code's files
/// in `Tests/Fixtures/surfaces/` (made by `Tests/Fixtures/make_surface_fixtures.py` with h5py).
struct SurfaceFileTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/surfaces")

    /// A fresh directory for one test's files.
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("SurfaceFileTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Cells as `[i, j]` pairs, so they compare with `==`.
    static func pairs(_ cells: [(i: Int, j: Int)]) -> [[Int]] { cells.map { [$0.i, $0.j] } }

    /// What `body` writes to standard error. The text is also passed on to the real standard error
    /// afterwards, so output of tests running at the same time is not lost.
    static func standardError(during body: () -> Void) throws -> String {
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: capture) }
        let captureFD = open(capture.path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        #expect(captureFD >= 0)
        let saved = dup(2)
        fflush(nil)
        dup2(captureFD, 2)
        body()
        fflush(nil)
        dup2(saved, 2)
        close(saved)
        close(captureFD)
        let text = try String(contentsOf: capture, encoding: .utf8)
        FileHandle.standardError.write(Data(text.utf8))
        return text
    }

    static let attributes = [
        "checkpoint": "runs/sam/final.safetensors",
        "checkpoint_sha256": String(repeating: "ab", count: 32),
        "normalization": "filter",
        "ignore": "biasbn",
        "command": "landscape surface final.safetensors --x -1:1:51 --note \"ρ = 0.05, ü\"",
    ]

    @Test("a 2D file starts at -1, keeps written cells across reopening, and lists the rest in row-major order")
    func create2D() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("surface.h5")
        let x = [0, 0.25, 0.5, 0.75, 1.0], y = [-1, -0.5, 0.0]
        let file = try SurfaceFile.create(at: url, x: x, y: y, quantities: ["train_loss", "train_acc", "test_loss"],
                                          attributes: Self.attributes)
        #expect(file.shape == (ny: 3, nx: 5))
        #expect(file.quantities == ["test_loss", "train_acc", "train_loss"])
        for quantity in file.quantities {
            #expect(try file.values(quantity) == [Double](repeating: -1, count: 15))
        }
        let all = (0..<3).flatMap { j in (0..<5).map { i in [i, j] } }
        #expect(try Self.pairs(file.missingCells()) == all)

        let written = [(i: 4, j: 0), (i: 0, j: 2), (i: 2, j: 1)]
        for (i, j) in written {
            try file.write(i: i, j: j, ["train_loss": x[i] + 10 * y[j], "train_acc": 50 + Double(i), "test_loss": Double(j)])
        }
        // A cell with only some quantities written still counts as missing.
        try file.write(i: 1, j: 1, ["train_loss": 7])
        file.close()
        file.close()

        let reopened = try SurfaceFile.open(url)
        #expect(reopened.x == x)
        #expect(reopened.y == y)
        #expect(reopened.quantities == ["test_loss", "train_acc", "train_loss"])
        let loss = try reopened.values("train_loss")
        for j in 0..<3 {
            for i in 0..<5 {
                let expected = written.contains { $0 == (i, j) } ? x[i] + 10 * y[j] : (i, j) == (1, 1) ? 7 : -1
                #expect(loss[j * 5 + i] == expected, "train_loss at (\(i), \(j))")
            }
        }
        #expect(try reopened.values("train_acc")[2 * 5 + 0] == 50)
        #expect(try reopened.values("test_loss")[1 * 5 + 2] == 1)
        let remaining = all.filter { cell in !written.contains { $0 == (cell[0], cell[1]) } }
        #expect(try Self.pairs(reopened.missingCells()) == remaining)
        #expect(try reopened.attributes() == Self.attributes)
    }

    @Test("a 1D file has no ycoordinates and values shaped [nx]")
    func create1D() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("line.h5")
        let x = [-1, -0.5, 0.0]
        let file = try SurfaceFile.create(at: url, x: x, y: nil, quantities: ["train_loss", "train_acc"], attributes: [:])
        #expect(file.shape == (ny: 1, nx: 3))
        try file.write(i: 2, j: 0, ["train_loss": 0.25, "train_acc": 91.5])
        file.close()

        let reopened = try SurfaceFile.open(url)
        #expect(reopened.x == x)
        #expect(reopened.y == nil)
        #expect(try reopened.values("train_loss") == [-1, -1, 0.25])
        #expect(try reopened.values("train_acc") == [-1, -1, 91.5])
        #expect(try Self.pairs(reopened.missingCells()) == [[0, 0], [1, 0]])
        #expect(try reopened.attributes() == [:])
    }

    @Test("create refuses an existing file unless replacing, and leaves it intact")
    func createRefusesExistingFile() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("surface.h5")
        let first = try SurfaceFile.create(at: url, x: [0, 1], y: [0, 1], quantities: ["train_loss"], attributes: [:])
        try first.write(i: 1, j: 0, ["train_loss": 3])
        first.close()

        #expect(throws: FileError(file: url.path, problem: "already exists; not replacing it")) {
            try SurfaceFile.create(at: url, x: [0, 1], y: [0, 1], quantities: ["train_loss"], attributes: [:])
        }
        #expect(try SurfaceFile.open(url).values("train_loss") == [-1, 3, -1, -1])

        let replaced = try SurfaceFile.create(at: url, x: [0, 1, 2], y: nil, quantities: ["train_loss"], attributes: ["a": "b"],
                                              replacing: true)
        #expect(try replaced.values("train_loss") == [-1, -1, -1])
        #expect(try replaced.attributes() == ["a": "b"])
        replaced.close()
        // Only the finished file is left: the temporary one was renamed into place.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["surface.h5"])
    }

    @Test("a quantity that is not in the file is an error, and a write naming one changes nothing")
    func unknownQuantity() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("surface.h5")
        let file = try SurfaceFile.create(at: url, x: [0, 1], y: nil, quantities: ["train_loss", "train_acc"], attributes: [:])
        let expected = FileError(file: url.path, problem: "no quantity test_loss (the file has train_acc, train_loss)")
        #expect(throws: expected) { try file.values("test_loss") }
        #expect(throws: expected) { try file.write(i: 0, j: 0, ["train_loss": 1, "test_loss": 2]) }
        #expect(try file.values("train_loss") == [-1, -1])
    }

    @Test("a square reference-code file reads in meshgrid order, skips its dir_file, and resumes")
    func squareReferenceFile() throws {
        let x = [-1, 0, 1.0], y = [0, 0.5, 1.0]
        let file = try SurfaceFile.open(Self.fixtures.appendingPathComponent("reference-square.h5"))
        #expect(file.x == x)
        #expect(file.y == y)
        #expect(file.quantities == ["train_acc", "train_loss"])
        let loss = try file.values("train_loss"), accuracy = try file.values("train_acc")
        for j in 0..<3 {
            for i in 0..<3 where (i, j) != (2, 1) {
                #expect(loss[j * 3 + i] == 3 + x[i] + 10 * y[j], "train_loss at (\(i), \(j))")
                #expect(accuracy[j * 3 + i] == 100 - loss[j * 3 + i], "train_acc at (\(i), \(j))")
            }
        }
        #expect(try Self.pairs(file.missingCells()) == [[2, 1]])
        #expect(try file.attributes() == [:])
        file.close()

        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("resumed.h5")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("reference-square.h5"), to: copy)
        let resumed = try SurfaceFile.open(copy, writable: true)
        try resumed.write(i: 2, j: 1, ["train_loss": 9, "train_acc": 91])
        #expect(try resumed.missingCells().isEmpty)
        #expect(try resumed.values("train_loss") == [2, 3, 4, 7, 8, 9, 12, 13, 14])
    }

    @Test("a non-square reference-code file, stored [nx, ny], is refused with both shapes named")
    func nonSquareReferenceFile() throws {
        let url = Self.fixtures.appendingPathComponent("reference-nonsquare.h5")
        let error = try #require(throws: FileError.self) { try SurfaceFile.open(url) }
        #expect(error.file == url.path)
        #expect(error.problem.contains("has shape [4, 3], which is [nx, ny]"))
        #expect(error.problem.contains("expected [ny, nx] = [3, 4]"))
        #expect(!error.description.contains("\n"))
    }

    @Test("an HDF5 file without xcoordinates is not a surface")
    func missingCoordinates() throws {
        let url = Self.fixtures.appendingPathComponent("no-coordinates.h5")
        #expect(throws: FileError(file: url.path, problem: "missing dataset xcoordinates (not a loss-surface file)")) {
            try SurfaceFile.open(url)
        }
    }

    @Test("files HDF5 cannot read give one line naming the file and nothing on standard error")
    func unreadableFiles() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("notes.h5")
        try Data("not a surface, just some bytes\n".utf8).write(to: text)
        // A real surface cut in half: HDF5 recognises the signature, then fails inside H5Fopen,
        // which is where its error stack would be printed.
        let truncated = directory.appendingPathComponent("truncated.h5")
        let whole = try Data(contentsOf: Self.fixtures.appendingPathComponent("reference-square.h5"))
        try whole.prefix(whole.count / 2).write(to: truncated)
        let missing = directory.appendingPathComponent("absent.h5")

        var errors: [FileError] = []
        let printed = try Self.standardError {
            for url in [text, truncated, missing] {
                do throws(FileError) {
                    _ = try SurfaceFile.open(url)
                } catch {
                    errors.append(error)
                }
            }
        }
        #expect(!printed.contains("HDF5"))
        #expect(errors.map(\.file) == [text.path, truncated.path, missing.path])
        #expect(errors[0].problem == "not an HDF5 file")
        #expect(errors[1].problem.hasPrefix("HDF5 cannot open it for reading"))
        #expect(errors[2].problem == "no such file")
    }

    @Test("thousands of single-cell writes, each flushed, fill a 51 x 51 grid")
    func manyWrites() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("grid.h5")
        let axis = (0..<51).map { -1 + Double($0) / 25 }
        let file = try SurfaceFile.create(at: url, x: axis, y: axis, quantities: ["train_loss", "train_acc"], attributes: [:])
        for j in 0..<51 {
            for i in 0..<51 {
                try file.write(i: i, j: j, ["train_loss": 2 + axis[i] * axis[i] + axis[j], "train_acc": Double(j * 51 + i)])
            }
        }
        #expect(try file.missingCells().isEmpty)
        #expect(try file.values("train_acc") == (0..<51 * 51).map(Double.init))
    }
}
