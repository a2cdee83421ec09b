import LandscapeCore

/// Which samples of a data set to keep: the first `n`, or `n` drawn at random without replacement.
public enum Subset: Equatable, Sendable, CustomStringConvertible {
    /// The first `n` samples, in order.
    case first(Int)
    /// `n` distinct samples chosen by `seed`: the first `n` entries of the Fisher-Yates permutation
    /// `RandomGenerator(seed: seed, stream: Subset.stream).permutation(count)`, in that order.
    case random(Int, seed: UInt64)

    /// The generator stream of random subsets, apart from the streams the batch loader shuffles with
    /// (1, 2, ... for epochs 0, 1, ...), so that a subset's order is not the first epoch's order.
    public static let stream: UInt64 = 0x5355_4253

    /// Parses a command-line value: `N` for the first `N` samples, `random:N` for `N` random samples
    /// with seed 0, `random:N:SEED` with another seed. `N` must be positive; anything else is `nil`.
    public init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 1 {
            guard let n = Int(parts[0]), n > 0 else { return nil }
            self = .first(n)
            return
        }
        guard parts.count <= 3, parts[0] == "random", let n = Int(parts[1]), n > 0,
              let seed = parts.count == 3 ? UInt64(parts[2]) : 0 else { return nil }
        self = .random(n, seed: seed)
    }

    /// The number of samples kept.
    public var count: Int {
        switch self {
        case .first(let n), .random(let n, _): n
        }
    }

    /// The command-line form that `init(argument:)` reads back: `N`, `random:N:SEED`.
    public var description: String {
        switch self {
        case .first(let n): "\(n)"
        case .random(let n, let seed): "random:\(n):\(seed)"
        }
    }
}

extension Dataset {
    /// The samples `selection` picks, images with their labels, as a new data set named after this
    /// one and the selection (e.g. `fashion-mnist/train[random:5000:7]`).
    ///
    /// A selection of fewer than 1 or more than `count` samples is an error.
    public func subset(_ selection: Subset) throws(FileError) -> Dataset {
        let n = selection.count
        guard n >= 1, n <= count else {
            throw FileError(file: name, problem: "cannot take a subset of \(n) samples from \(count); the size must be in 1...\(count)")
        }
        let indices: [Int]
        switch selection {
        case .first:
            indices = Array(0..<n)
        case .random(_, let seed):
            var generator = RandomGenerator(seed: seed, stream: Subset.stream)
            indices = Array(generator.permutation(count).prefix(n))
        }
        let size = sampleSize
        var pixels: [Float] = []
        pixels.reserveCapacity(n * size)
        for index in indices {
            pixels.append(contentsOf: images[index * size ..< (index + 1) * size])
        }
        return Dataset(
            name: "\(name)[\(selection)]", images: pixels, labels: indices.map { labels[$0] },
            height: height, width: width, channels: channels, classes: classes)
    }
}
