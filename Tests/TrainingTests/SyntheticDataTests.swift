import Testing
import Training

/// Seeded synthetic data sets.
struct SyntheticDataTests {
    /// Bit patterns, so that equality means bit for bit (and NaN would not hide).
    static func bits(_ data: Dataset) -> [UInt32] { data.images.map(\.bitPattern) }

    /// Samples per class.
    static func histogram(_ data: Dataset) -> [Int] {
        data.labels.reduce(into: [Int](repeating: 0, count: data.classes)) { $0[Int($1)] += 1 }
    }

    @Test("the same seed gives the same data bit for bit; another seed or split does not")
    func determinism() {
        let spirals = SyntheticData.twoSpirals(count: 101, noise: 0.1, seed: 5)
        #expect(Self.bits(SyntheticData.twoSpirals(count: 101, noise: 0.1, seed: 5)) == Self.bits(spirals))
        #expect(SyntheticData.twoSpirals(count: 101, noise: 0.1, seed: 5).labels == spirals.labels)
        #expect(Self.bits(SyntheticData.twoSpirals(count: 101, noise: 0.1, seed: 6)) != Self.bits(spirals))
        #expect(Self.bits(SyntheticData.twoSpirals(count: 101, noise: 0.1, seed: 5, split: .test)) != Self.bits(spirals))

        let blobs = SyntheticData.gaussianBlobs(count: 60, classes: 3, features: 4, spread: 0.5, seed: 9)
        #expect(Self.bits(SyntheticData.gaussianBlobs(count: 60, classes: 3, features: 4, spread: 0.5, seed: 9)) == Self.bits(blobs))
        #expect(Self.bits(SyntheticData.gaussianBlobs(count: 60, classes: 3, features: 4, spread: 0.5, seed: 10)) != Self.bits(blobs))

        let images = SyntheticData.randomImages(count: 7, side: 5, channels: 3, classes: 4, seed: 2)
        let again = SyntheticData.randomImages(count: 7, side: 5, channels: 3, classes: 4, seed: 2)
        #expect(Self.bits(again) == Self.bits(images))
        #expect(again.labels == images.labels)
        #expect(Self.bits(SyntheticData.randomImages(count: 7, side: 5, channels: 3, classes: 4, seed: 3)) != Self.bits(images))
    }

    @Test("shapes: point sets are 1x1 images with one channel per feature")
    func shapes() {
        let spirals = SyntheticData.twoSpirals(count: 11, noise: 0, seed: 0)
        #expect((spirals.count, spirals.height, spirals.width, spirals.channels, spirals.classes) == (11, 1, 1, 2, 2))
        #expect(spirals.images.count == 22)

        let blobs = SyntheticData.gaussianBlobs(count: 10, classes: 5, features: 7, spread: 1, seed: 0)
        #expect((blobs.count, blobs.height, blobs.width, blobs.channels, blobs.classes) == (10, 1, 1, 7, 5))

        let images = SyntheticData.randomImages(count: 6, side: 8, channels: 3, classes: 10, seed: 0)
        #expect((images.count, images.height, images.width, images.channels, images.classes) == (6, 8, 8, 3, 10))
        #expect(images.images.count == 6 * 8 * 8 * 3)
        #expect(images.labels.allSatisfy { (0..<10).contains($0) })
        #expect(SyntheticData.randomImages(count: 0, side: 2, channels: 1, classes: 2, seed: 0).count == 0)
    }

    @Test("classes alternate, so every class has count / classes samples or one more")
    func classBalance() {
        let spirals = SyntheticData.twoSpirals(count: 101, noise: 0.2, seed: 1)
        #expect(Self.histogram(spirals) == [51, 50])
        #expect(Array(spirals.labels.prefix(4)) == [0, 1, 0, 1])
        let blobs = SyntheticData.gaussianBlobs(count: 23, classes: 4, features: 2, spread: 1, seed: 1)
        #expect(Self.histogram(blobs) == [6, 6, 6, 5])
    }

    @Test("noise-free spirals lie in the unit disc at radius t, the two classes half a turn apart")
    func spiralRadius() {
        let spirals = SyntheticData.twoSpirals(count: 400, noise: 0, seed: 3)
        let radii = (0..<spirals.count).map { i -> Float in
            let (x, y) = (spirals.images[2 * i], spirals.images[2 * i + 1])
            return (x * x + y * y).squareRoot()
        }
        #expect(radii.allSatisfy { $0 >= 0 && $0 <= 1.000001 })
        // t is uniform in [0, 1): the radii spread over the whole range.
        #expect(radii.min()! < 0.05 && radii.max()! > 0.95)

        // Noise moves points off the spiral but, at 0.05, not far.
        let noisy = SyntheticData.twoSpirals(count: 400, noise: 0.05, seed: 3)
        let moved = (0..<noisy.count).map { i -> Float in
            let dx = noisy.images[2 * i] - spirals.images[2 * i], dy = noisy.images[2 * i + 1] - spirals.images[2 * i + 1]
            return (dx * dx + dy * dy).squareRoot()
        }
        #expect(moved.allSatisfy { $0 < 0.05 * 6 })
        #expect(moved.contains { $0 > 0 })
    }

    @Test("blobs of small spread cluster around centres shared by both splits")
    func blobCentres() {
        let train = SyntheticData.gaussianBlobs(count: 300, classes: 3, features: 2, spread: 0.01, seed: 4)
        let test = SyntheticData.gaussianBlobs(count: 30, classes: 3, features: 2, spread: 0.01, seed: 4, split: .test)
        #expect(test.images != Array(train.images.prefix(60)))
        for k in 0..<3 {
            // Sample k is of class k in both splits; points of a class are within a few spreads.
            let centre = (train.images[2 * k], train.images[2 * k + 1])
            for data in [train, test] {
                for i in stride(from: k, to: data.count, by: 3) {
                    #expect(abs(data.images[2 * i] - centre.0) < 0.2 && abs(data.images[2 * i + 1] - centre.1) < 0.2)
                }
            }
        }
    }

    @Test("random images are standard normal")
    func randomImagePixels() {
        let images = SyntheticData.randomImages(count: 20, side: 10, channels: 3, classes: 2, seed: 8)
        let n = Float(images.images.count)
        let mean = images.images.reduce(0, +) / n
        let variance = images.images.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        #expect(abs(mean) < 0.1)
        #expect(abs(variance - 1) < 0.1)
        #expect(Set(images.labels).count == 2)
    }
}
