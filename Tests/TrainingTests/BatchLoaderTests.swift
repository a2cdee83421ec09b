import LandscapeCore
import Testing
import Training

/// Cutting a data set into shuffled batches.
struct BatchLoaderTests {
    /// `count` images of 2x1 pixels and 3 channels whose pixels encode the sample index
    /// (`100 * sample + position`), labelled `sample % classes`.
    static func dataset(count: Int, classes: Int = 4) -> Dataset {
        let size = 2 * 1 * 3
        let images = (0..<count * size).map { Float(100 * ($0 / size) + $0 % size) }
        let labels = (0..<count).map { Int32($0 % classes) }
        return Dataset(name: "indexed", images: images, labels: labels, height: 2, width: 1, channels: 3, classes: classes)
    }

    /// The samples of every batch of the current epoch, read back from the pixels; checks that each
    /// image arrives whole and with its own label.
    static func epoch(_ loader: BatchLoader, _ epoch: Int) -> [[Int]] {
        loader.startEpoch(epoch)
        return (0..<loader.batchCount).map { index in
            let (images, labels) = loader.batch(index)
            let size = loader.dataset.sampleSize
            return (0..<images.shape.n).map { i in
                let sample = Int(images.pointer[i * size]) / 100
                let pixels = (0..<size).map { images.pointer[i * size + $0] }
                #expect(pixels == (0..<size).map { Float(100 * sample + $0) }, "sample \(sample) arrived damaged")
                #expect(labels[i] == loader.dataset.labels[sample], "sample \(sample) has the wrong label")
                return sample
            }
        }
    }

    @Test("every sample appears exactly once per epoch", arguments: [(10, 4), (10, 5), (10, 1), (10, 10), (10, 32), (1, 3)] as [(Int, Int)])
    func everySampleOnce(count: Int, batchSize: Int) {
        let loader = BatchLoader(Self.dataset(count: count), batchSize: batchSize, seed: 3)
        for e in 0..<3 {
            let samples = Self.epoch(loader, e).flatMap { $0 }
            #expect(samples.count == count)
            #expect(samples.sorted() == Array(0..<count), "epoch \(e)")
        }
    }

    @Test("batches are full except the last, which holds the remainder")
    func batchSizes() {
        let loader = BatchLoader(Self.dataset(count: 10), batchSize: 4, seed: 1)
        #expect(loader.batchCount == 3)
        #expect(Self.epoch(loader, 0).map(\.count) == [4, 4, 2])
        let last = loader.batch(2).images
        #expect(last.shape == Shape(n: 2, height: 2, width: 1, channels: 3))
        #expect(loader.batch(0).images.shape.n == 4)
        #expect(loader.sampleShape == Shape(n: 1, height: 2, width: 1, channels: 3))

        let exact = BatchLoader(Self.dataset(count: 12), batchSize: 4, seed: 1)
        #expect(exact.batchCount == 3)
        #expect(Self.epoch(exact, 0).map(\.count) == [4, 4, 4])
        let single = BatchLoader(Self.dataset(count: 3), batchSize: 8, seed: 1)
        #expect(single.batchCount == 1)
        #expect(Self.epoch(single, 0).map(\.count) == [3])
    }

    @Test("the order of an epoch depends only on the seed and the epoch")
    func orderDependsOnSeedAndEpoch() {
        let data = Self.dataset(count: 50)
        let sequential = BatchLoader(data, batchSize: 8, seed: 42)
        let orders = (0..<4).map { Self.epoch(sequential, $0).flatMap { $0 } }
        // Jumping straight to an epoch, or revisiting it, gives the same order: a resumed run sees
        // the same batches.
        let resumed = BatchLoader(data, batchSize: 8, seed: 42)
        #expect(Self.epoch(resumed, 3).flatMap { $0 } == orders[3])
        #expect(Self.epoch(resumed, 1).flatMap { $0 } == orders[1])
        #expect(Self.epoch(sequential, 0).flatMap { $0 } == orders[0])
        // The batch size cuts the same order differently.
        let wider = BatchLoader(data, batchSize: 7, seed: 42)
        #expect(Self.epoch(wider, 2).flatMap { $0 } == orders[2])
        // Epochs differ from each other, and seeds from each other.
        #expect(Set(orders).count == orders.count)
        let other = BatchLoader(data, batchSize: 8, seed: 43)
        #expect(Self.epoch(other, 0).flatMap { $0 } != orders[0])
        // The documented permutation: stream epoch + 1 of the seed.
        for (e, order) in orders.enumerated() {
            var generator = RandomGenerator(seed: 42, stream: UInt64(e) + 1)
            #expect(order == generator.permutation(50), "epoch \(e)")
        }
    }

    @Test("shuffles: false keeps the data set's order in every epoch")
    func unshuffled() {
        let loader = BatchLoader(Self.dataset(count: 10), batchSize: 4, seed: 3, shuffles: false)
        for e in 0..<3 {
            #expect(Self.epoch(loader, e) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        }
        // A shuffling loader on the same data does not.
        let shuffled = BatchLoader(Self.dataset(count: 10), batchSize: 4, seed: 3)
        #expect(Self.epoch(shuffled, 0).flatMap { $0 } != Array(0..<10))
    }

    @Test("before the first startEpoch the order is the data set's own")
    func orderBeforeFirstEpoch() {
        let loader = BatchLoader(Self.dataset(count: 6), batchSize: 4, seed: 3)
        let samples = (0..<loader.batchCount).flatMap { index in
            let (images, _) = loader.batch(index)
            return (0..<images.shape.n).map { Int(images.pointer[$0 * loader.dataset.sampleSize]) / 100 }
        }
        #expect(samples == Array(0..<6))
    }

    @Test("batches reuse the loader's buffers")
    func buffersAreReused() {
        let loader = BatchLoader(Self.dataset(count: 10), batchSize: 4, seed: 3)
        loader.startEpoch(0)
        let first = loader.batch(0)
        let second = loader.batch(1)
        #expect(first.images.pointer == second.images.pointer)
        #expect(first.labels == second.labels)
    }

    @Test("withBatch gives each batch's images and labels as batch does, shuffled or in order, the last batch short")
    func withBatchAgreesWithBatch() {
        for shuffles in [false, true] {
            let loader = BatchLoader(Self.dataset(count: 10), batchSize: 4, seed: 3, shuffles: shuffles)
            loader.startEpoch(1)
            for index in 0..<loader.batchCount {
                let (images, labels) = loader.batch(index)
                let copied = (Array(UnsafeBufferPointer(start: images.pointer, count: images.shape.count)),
                              Array(UnsafeBufferPointer(start: labels, count: images.shape.n)))
                let viewed = loader.withBatch(index) { images, labels in
                    (Array(UnsafeBufferPointer(start: images.pointer, count: images.shape.count)),
                     Array(UnsafeBufferPointer(start: labels, count: images.shape.n)))
                }
                #expect(viewed.0 == copied.0 && viewed.1 == copied.1, "batch \(index), shuffles \(shuffles)")
                #expect(viewed.0.count == (index == 2 ? 2 : 4) * loader.dataset.sampleSize)
            }
        }
    }
}
