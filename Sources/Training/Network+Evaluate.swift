import LandscapeCore
import Networks

extension Network where T == Float {
    /// The mean loss and accuracy over a whole data set, batch-norm in evaluation mode, in batches of
    /// `batchSize` taken in order.
    public func evaluate(_ dataset: Dataset, batchSize: Int = 1000) -> Evaluation {
        let loader = BatchLoader(dataset, batchSize: batchSize, seed: 0, shuffles: false)
        var total = Evaluation(loss: 0, correct: 0, count: 0)
        for index in 0..<loader.batchCount {
            let (images, labels) = loader.batch(index)
            total = total.merged(with: loss(images, labels: labels, mode: .evaluation))
        }
        return total
    }
}
