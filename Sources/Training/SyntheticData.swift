import Foundation
import LandscapeCore

/// Seeded synthetic data sets for fast tests and demonstrations.
///
/// The point sets (`twoSpirals`, `gaussianBlobs`) are feature vectors stored as 1x1 images with one
/// channel per feature, the layout `Shape(n:features:)` gives a batch of vectors. Every random number
/// comes from `RandomGenerator`, so the same arguments give the same data bit for bit (the spirals'
/// sines and cosines come from the platform's maths library, so across platforms they may differ
/// in the last bit). Classes alternate sample by sample (`label = i % classes`): every class has
/// `count / classes` or one more samples, and so does every prefix, such as `subset(.first(n))`.
public enum SyntheticData {
    /// Two interleaved spirals, one per class, in the plane (2 features).
    ///
    /// Sample `i` has class `k = i % 2`, draws `t` uniformly from [0, 1) and is the point
    /// `t * (cos a, sin a) + noise * (z1, z2)` with angle `a = 4 pi t + k pi` (two turns; the second
    /// spiral is the first rotated by half a turn) and `z1`, `z2` standard normal. Without noise the
    /// radius is `t`, inside the unit disc. The `test` split draws other points of the same spirals.
    public static func twoSpirals(count: Int, noise: Double, seed: UInt64, split: DataSplit = .train) -> Dataset {
        precondition(count >= 0, "twoSpirals: count \(count) is negative")
        precondition(noise >= 0, "twoSpirals: noise \(noise) is negative")
        var generator = RandomGenerator(seed: seed, stream: Stream.spirals + split.stream)
        var features: [Float] = []
        features.reserveCapacity(2 * count)
        var labels: [Int32] = []
        labels.reserveCapacity(count)
        for i in 0..<count {
            let k = i % 2
            let t = generator.uniform()
            let angle = 4 * Double.pi * t + Double(k) * Double.pi
            features.append(Float(t * cos(angle) + noise * generator.normal()))
            features.append(Float(t * sin(angle) + noise * generator.normal()))
            labels.append(Int32(k))
        }
        return Dataset(name: "two-spirals/\(split.rawValue)", images: features, labels: labels,
                       height: 1, width: 1, channels: 2, classes: 2)
    }

    /// Gaussian clusters, one per class, in `features` dimensions.
    ///
    /// The class centres are drawn from `N(0, 4 I)` (standard deviation 2 per coordinate) by the seed
    /// alone, so both splits and every `count` share them; sample `i` has class `k = i % classes` and
    /// is drawn from `N(centre_k, spread^2 I)`. The `test` split draws other points around the same
    /// centres.
    public static func gaussianBlobs(
        count: Int, classes: Int, features: Int, spread: Double, seed: UInt64, split: DataSplit = .train
    ) -> Dataset {
        precondition(count >= 0, "gaussianBlobs: count \(count) is negative")
        precondition(classes > 0 && features > 0, "gaussianBlobs: \(classes) classes of \(features) features")
        precondition(spread >= 0, "gaussianBlobs: spread \(spread) is negative")
        var centreGenerator = RandomGenerator(seed: seed, stream: Stream.blobCentres)
        let centres = (0..<classes * features).map { _ in 2 * centreGenerator.normal() }
        var generator = RandomGenerator(seed: seed, stream: Stream.blobPoints + split.stream)
        var values: [Float] = []
        values.reserveCapacity(count * features)
        var labels: [Int32] = []
        labels.reserveCapacity(count)
        for i in 0..<count {
            let k = i % classes
            for j in 0..<features {
                values.append(Float(centres[k * features + j] + spread * generator.normal()))
            }
            labels.append(Int32(k))
        }
        return Dataset(name: "gaussian-blobs/\(split.rawValue)", images: values, labels: labels,
                       height: 1, width: 1, channels: features, classes: classes)
    }

    /// Images of standard normal pixels with uniformly random labels: nothing to learn, for checking
    /// shapes and timing models on `side x side x channels` inputs without real data.
    ///
    /// Each sample draws its label (`integer(below: classes)`) and then its pixels in channels-last
    /// order from one generator.
    public static func randomImages(count: Int, side: Int, channels: Int, classes: Int, seed: UInt64) -> Dataset {
        precondition(count >= 0, "randomImages: count \(count) is negative")
        precondition(side > 0 && channels > 0 && classes > 0, "randomImages: \(side)x\(side)x\(channels) images in \(classes) classes")
        var generator = RandomGenerator(seed: seed, stream: Stream.images)
        let size = side * side * channels
        var pixels: [Float] = []
        pixels.reserveCapacity(count * size)
        var labels: [Int32] = []
        labels.reserveCapacity(count)
        for _ in 0..<count {
            labels.append(Int32(generator.integer(below: classes)))
            for _ in 0..<size {
                pixels.append(Float(generator.normal()))
            }
        }
        return Dataset(name: "random-images", images: pixels, labels: labels,
                       height: side, width: side, channels: channels, classes: classes)
    }

    /// Generator streams, one per use, so that the generators never share numbers for the same seed
    /// (and the points of a data set are not correlated with another data set's).
    private enum Stream {
        static let spirals: UInt64 = 0x5350_0000
        static let blobCentres: UInt64 = 0x424C_0000
        static let blobPoints: UInt64 = 0x424C_0010
        static let images: UInt64 = 0x494D_0000
    }
}

private extension DataSplit {
    /// Offset of the split's generator stream: train and test draw different points.
    var stream: UInt64 { self == .train ? 0 : 1 }
}
