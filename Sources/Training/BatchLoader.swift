import LandscapeCore

/// Cuts a data set into batches, shuffled by a seed.
///
/// The order of epoch `e` is the Fisher-Yates permutation drawn from `RandomGenerator(seed:
/// seed, stream: e + 1)`: it depends on nothing but the seed and the epoch, so a resumed run sees
/// the same batches as an uninterrupted one. The last batch may be smaller (PyTorch's
/// `drop_last=False`). Batches are copied into buffers the loader owns, allocated once.
public final class BatchLoader {
    public let dataset: Dataset
    public let batchSize: Int
    public let seed: UInt64
    public let shuffles: Bool
    private let images: Buffer<Float>
    private let labels: Buffer<Int32>
    private var order: [Int]

    public init(_ dataset: Dataset, batchSize: Int, seed: UInt64, shuffles: Bool = true) {
        precondition(batchSize > 0, "BatchLoader: batch size \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.seed = seed
        self.shuffles = shuffles
        images = Buffer(count: batchSize * dataset.sampleSize)
        labels = Buffer(count: batchSize)
        order = Array(0..<dataset.count)
    }

    /// Batches per epoch.
    public var batchCount: Int { (dataset.count + batchSize - 1) / batchSize }

    /// The shape of one sample.
    public var sampleShape: Shape { Shape(n: 1, height: dataset.height, width: dataset.width, channels: dataset.channels) }

    /// Prepares the order of `epoch` (counted from 0).
    public func startEpoch(_ epoch: Int) {
        guard shuffles else { return }
        var generator = RandomGenerator(seed: seed, stream: UInt64(epoch) + 1)
        order = generator.permutation(dataset.count)
    }

    /// Batch `index` of the current epoch: the images, channels-last, and their labels. The views
    /// stay valid until the next call.
    public func batch(_ index: Int) -> (images: Tensor<Float>, labels: UnsafePointer<Int32>) {
        precondition(index >= 0 && index < batchCount, "BatchLoader: batch \(index) outside 0..<\(batchCount)")
        let start = index * batchSize
        let count = min(batchSize, dataset.count - start)
        let size = dataset.sampleSize
        dataset.images.withUnsafeBufferPointer { source in
            for i in 0..<count {
                let sample = order[start + i]
                (images.pointer + i * size).update(from: source.baseAddress! + sample * size, count: size)
                labels.pointer[i] = dataset.labels[sample]
            }
        }
        return (Tensor(images, sampleShape.with(n: count)), UnsafePointer(labels.pointer))
    }
}
