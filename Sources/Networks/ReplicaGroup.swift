import LandscapeCore

/// What the layer stacks of one network share while they run the parts of a batch on several
/// threads: how many take part, a barrier, and each batch-norm layer's per-channel sums.
///
/// Batch-norm in training normalises with the statistics of the whole batch, so its stacks add up
/// their partial sums (`ChannelSums.allReduce`); every other layer works on its own samples alone.
final class ReplicaGroup {
    /// Stacks taking part in the current pass.
    private(set) var parties = 1
    let barrier = SpinBarrier(parties: 1)
    private var sums: [String: ChannelSums] = [:]

    /// The shared sums of the batch-norm layer `name`, made when its first stack is built.
    func sums(named name: String, channels: Int) -> ChannelSums {
        if let existing = sums[name] { return existing }
        let made = ChannelSums(group: self, channels: channels)
        sums[name] = made
        return made
    }

    /// Sets the number of stacks for the next pass; only between passes.
    func begin(parties: Int) {
        guard parties != self.parties else { return }
        self.parties = parties
        barrier.reset(parties: parties)
        for sum in sums.values { sum.reserve(parties: parties) }
    }
}

/// One stack's place in its network's `ReplicaGroup`.
struct Replica {
    /// 0 for the stack that also serves unsplit passes and updates running statistics.
    let index: Int
    let group: ReplicaGroup
}

/// Per-channel sums of one batch-norm layer over the stacks of a split batch.
final class ChannelSums {
    private let group: ReplicaGroup
    /// Values one stack publishes per phase: up to two per channel and a count.
    private let width: Int
    private let partials = Buffer<Double>(count: 0)
    static let phases = 3

    init(group: ReplicaGroup, channels: Int) {
        self.group = group
        width = 2 * channels + 1
        reserve(parties: group.parties)
    }

    func reserve(parties: Int) { partials.reserve(Self.phases * parties * width) }

    /// Replaces `values[0..<count]`, this stack's partial sums, by the sums over all stacks, added
    /// in stack order so that every stack gets the same bits. Each `phase` (0 to 2) has its own
    /// slots, so a stack that runs ahead into the next phase cannot overwrite values another is
    /// still reading; the same phase is not used again before the pass ends.
    func allReduce(_ values: UnsafeMutablePointer<Double>, count: Int, phase: Int, replica: Int) {
        let parties = group.parties
        guard parties > 1 else { return }
        precondition(count <= width && phase < Self.phases, "ChannelSums: \(count) values in phase \(phase)")
        let slots = partials.pointer + phase * parties * width
        (slots + replica * width).update(from: values, count: count)
        group.barrier.wait()
        for i in 0..<count { values[i] = slots[i] }
        for other in 1..<parties {
            let slot = slots + other * width
            for i in 0..<count { values[i] += slot[i] }
        }
    }
}
