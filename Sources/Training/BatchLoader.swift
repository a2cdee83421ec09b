import LandscapeCore
import Networks

/// Cuts a data set into batches, shuffled by a seed.
///
/// The order of epoch `e` is the Fisher-Yates permutation drawn from `RandomGenerator(seed:
/// seed, stream: e + 1)`: it depends on nothing but the seed and the epoch, so a resumed run sees
/// the same batches as an uninterrupted one. The last batch may be smaller (PyTorch's
/// `drop_last=False`). Batches are copied into buffers the loader owns, allocated once.
///
/// An `augmentation` other than `.none` transforms each batch after copying it, with the generator
/// `RandomGenerator(seed: seed, stream: 0x4155_4700 + (epoch << 20) + batchIndex)`: like the order,
/// the augmented batch depends only on the seed, the epoch and the batch index. (0x4155_4700 spells
/// "AUG"; the streams sit far above the shuffling streams `e + 1`.)
public final class BatchLoader {
    public let dataset: Dataset
    public let batchSize: Int
    public let seed: UInt64
    public let shuffles: Bool
    /// The random transformations applied to every batch; `.none` by default.
    public let augmentation: Augmentation
    private let images: Buffer<Float>
    private let labels: Buffer<Int32>
    /// One image, for the augmentation to work in.
    private let scratch: Buffer<Float>
    private var order: [Int]
    private var epoch = 0

    public init(_ dataset: Dataset, batchSize: Int, seed: UInt64, shuffles: Bool = true, augmentation: Augmentation = .none) {
        precondition(batchSize > 0, "BatchLoader: batch size \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.seed = seed
        self.shuffles = shuffles
        self.augmentation = augmentation
        images = Buffer(count: batchSize * dataset.sampleSize)
        labels = Buffer(count: batchSize)
        scratch = Buffer(count: augmentation.isNone ? 0 : dataset.sampleSize)
        order = Array(0..<dataset.count)
    }

    /// Batches per epoch.
    public var batchCount: Int { (dataset.count + batchSize - 1) / batchSize }

    /// The shape of one sample.
    public var sampleShape: Shape { Shape(n: 1, height: dataset.height, width: dataset.width, channels: dataset.channels) }

    /// Prepares the order and the augmentation of `epoch` (counted from 0). Before the first call the
    /// order is the data set's own and the augmentation that of epoch 0.
    public func startEpoch(_ epoch: Int) {
        self.epoch = epoch
        guard shuffles else { return }
        var generator = RandomGenerator(seed: seed, stream: UInt64(epoch) + 1)
        order = generator.permutation(dataset.count)
    }

    /// Batch `index` of the current epoch: the images, channels-last, and their labels. The views
    /// stay valid until the next call. Given a network, its threads copy the samples in (a batch of
    /// scattered samples is a few percent of a small network's step), with the same result.
    public func batch(_ index: Int, on network: Network<Float>? = nil) -> (images: Tensor<Float>, labels: UnsafePointer<Int32>) {
        let (start, count) = bounds(ofBatch: index)
        let (size, images, labels) = (dataset.sampleSize, images.pointer, labels.pointer)
        dataset.images.withUnsafeBufferPointer { source in
            dataset.labels.withUnsafeBufferPointer { sourceLabels in
                order.withUnsafeBufferPointer { order in
                    forEachSlice(of: count, on: network) { part in
                        for i in part {
                            let sample = order[start + i]
                            (images + i * size).update(from: source.baseAddress! + sample * size, count: size)
                            labels[i] = sourceLabels[sample]
                        }
                    }
                }
            }
        }
        if !augmentation.isNone {
            var generator = RandomGenerator(seed: seed, stream: 0x4155_4700 &+ (UInt64(epoch) << 20) &+ UInt64(index))
            augmentation.apply(to: images, count: count, height: dataset.height, width: dataset.width,
                               channels: dataset.channels, generator: &generator, scratch: scratch.pointer)
        }
        return (Tensor(images, sampleShape.with(n: count)), UnsafePointer(labels))
    }

    /// Calls `body` with batch `index`, as `batch(_:)` returns it. The batches of a loader that
    /// neither shuffles nor augments are runs of the data set as it is, so `body` then reads the
    /// data set's own memory: no copy, which on a pass of evaluation alone took about a tenth of the
    /// time on one thread while the others waited. The network reads its input, never writes it.
    /// A copy is made on `network`'s threads, as `batch(_:on:)` makes it.
    public func withBatch<Result>(_ index: Int, on network: Network<Float>? = nil, _ body: (Tensor<Float>, UnsafePointer<Int32>) -> Result) -> Result {
        guard !shuffles && augmentation.isNone else {
            let (images, labels) = batch(index, on: network)
            return body(images, labels)
        }
        let (start, count) = bounds(ofBatch: index)
        return dataset.images.withUnsafeBufferPointer { images in
            dataset.labels.withUnsafeBufferPointer { labels in
                let first = UnsafeMutablePointer(mutating: images.baseAddress! + start * dataset.sampleSize)
                return body(Tensor(first, sampleShape.with(n: count)), labels.baseAddress! + start)
            }
        }
    }

    /// The position of batch `index`'s first sample in the epoch's order, and its sample count.
    private func bounds(ofBatch index: Int) -> (start: Int, count: Int) {
        precondition(index >= 0 && index < batchCount, "BatchLoader: batch \(index) outside 0..<\(batchCount)")
        let start = index * batchSize
        return (start, min(batchSize, dataset.count - start))
    }
}
