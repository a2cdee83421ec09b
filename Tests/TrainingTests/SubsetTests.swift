import LandscapeCore
import Testing
import Training

/// Taking the first or a random part of a data set, and reading the choice from the command line.
struct SubsetTests {
    /// `count` images of 1x2 pixels and 2 channels whose values encode the sample index
    /// (`10 * sample + position`), labelled `sample % 3`.
    static func dataset(count: Int) -> Dataset {
        let images = (0..<count * 4).map { Float(10 * ($0 / 4) + $0 % 4) }
        return Dataset(name: "indexed", images: images, labels: (0..<count).map { Int32($0 % 3) },
                       height: 1, width: 2, channels: 2, classes: 3)
    }

    /// The sample indices of a subset of `dataset(count:)`, checking each image and label arrived whole.
    static func samples(_ data: Dataset) -> [Int] {
        (0..<data.count).map { i in
            let sample = Int(data.images[4 * i]) / 10
            #expect(Array(data.images[4 * i ..< 4 * i + 4]) == (0..<4).map { Float(10 * sample + $0) })
            #expect(data.labels[i] == Int32(sample % 3))
            return sample
        }
    }

    @Test("first N keeps the first N samples in order, with the shape and classes")
    func first() throws {
        let data = Self.dataset(count: 10)
        let subset = try data.subset(.first(4))
        #expect(Self.samples(subset) == [0, 1, 2, 3])
        #expect((subset.height, subset.width, subset.channels, subset.classes) == (1, 2, 2, 3))
        #expect(subset.name == "indexed[4]")
        #expect(Self.samples(try data.subset(.first(10))) == Array(0..<10))
    }

    @Test("random N takes N distinct samples in the order of the seeded permutation")
    func random() throws {
        let data = Self.dataset(count: 50)
        let subset = try data.subset(.random(20, seed: 7))
        let samples = Self.samples(subset)
        #expect(Set(samples).count == 20)
        #expect(samples != samples.sorted())
        var generator = RandomGenerator(seed: 7, stream: Subset.stream)
        #expect(samples == Array(generator.permutation(50).prefix(20)))
        #expect(subset.name == "indexed[random:20:7]")

        #expect(Self.samples(try data.subset(.random(20, seed: 7))) == samples)
        #expect(Self.samples(try data.subset(.random(20, seed: 8))) != samples)
        // A larger subset from the same seed extends the smaller one.
        #expect(Array(Self.samples(try data.subset(.random(30, seed: 7))).prefix(20)) == samples)
        #expect(Self.samples(try data.subset(.random(50, seed: 7))).sorted() == Array(0..<50))
    }

    @Test("a subset larger than the data set or smaller than 1 is an error naming the sizes", arguments: [
        Subset.first(11), .first(0), .first(-3), .random(11, seed: 0), .random(0, seed: 1),
    ])
    func sizeErrors(selection: Subset) throws {
        let error = try #require(throws: FileError.self) { try Self.dataset(count: 10).subset(selection) }
        #expect(error.file == "indexed")
        #expect(error.problem.contains("subset of \(selection.count) samples from 10"))
        #expect(!error.description.contains("\n"))
    }

    @Test("command-line values: N, random:N, random:N:SEED", arguments: [
        ("5000", Subset.first(5000)), ("1", .first(1)),
        ("random:5000", .random(5000, seed: 0)), ("random:5000:7", .random(5000, seed: 7)),
        ("random:3:18446744073709551615", .random(3, seed: .max)),
    ] as [(String, Subset)])
    func parses(argument: String, expected: Subset) {
        #expect(Subset(argument: argument) == expected)
    }

    @Test("malformed command-line values are rejected", arguments: [
        "", "0", "-5", "abc", "5000:7", "random", "random:", "random:0", "random:x", "random:5:",
        "random:5:-1", "random:5:7:1", "Random:5", "first:5", " 5",
    ])
    func rejects(argument: String) {
        #expect(Subset(argument: argument) == nil)
    }

    @Test("description gives back the command-line form")
    func roundTrip() {
        for subset in [Subset.first(12), .random(5, seed: 0), .random(5, seed: 99)] {
            #expect(Subset(argument: subset.description) == subset)
        }
        #expect(Subset.random(5, seed: 0).description == "random:5:0")
    }
}
