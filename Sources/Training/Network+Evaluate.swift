import LandscapeCore
import Networks

extension Network where T == Float {
    /// The mean loss and accuracy over a whole data set, batch-norm in evaluation mode, in batches of
    /// `batchSize` taken in order.
    public func evaluate(_ dataset: Dataset, batchSize: Int = 1000) -> Evaluation {
        evaluate(BatchLoader(dataset, batchSize: batchSize, seed: 0, shuffles: false))
    }

    /// The mean loss and accuracy over every batch of `loader` in its current order.
    public func evaluate(_ loader: BatchLoader, mode: Mode = .evaluation) -> Evaluation {
        var total = Evaluation(loss: 0, correct: 0, count: 0)
        for index in 0..<loader.batchCount {
            total = total.merged(with: loader.withBatch(index) { images, labels in loss(images, labels: labels, mode: mode) })
        }
        return total
    }
}
