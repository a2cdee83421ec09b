import Foundation
import LandscapeCore

/// Reading and writing a network's tensors under PyTorch's `state_dict` names.
extension Network {
    /// Every tensor a PyTorch `state_dict` of this model holds: parameters, running statistics and,
    /// for each batch-norm layer, `num_batches_tracked` (int64), all as float32.
    public func stateDict() -> [SafeTensorsTensor] {
        var tensors: [SafeTensorsTensor] = []
        for vector in [parameters, state] {
            for entry in vector.layout.entries {
                tensors.append(SafeTensorsTensor(name: entry.name, shape: entry.shape, floats: vector.view(entry).map { Float($0) }))
            }
        }
        for entry in state.layout.entries where entry.role == .runningMean {
            let layer = entry.name.dropLast(".running_mean".count)
            tensors.append(SafeTensorsTensor(name: "\(layer).num_batches_tracked", shape: [], integers: [Int64(batchesTracked)]))
        }
        return tensors
    }

    /// Sets every parameter and running statistic from a safetensors file with PyTorch names.
    ///
    /// Every tensor of the model must be present with its exact shape; `num_batches_tracked` may be
    /// absent; a tensor the model does not have is an error, as PyTorch's `load_state_dict(strict=True)`.
    /// Floats of any width are converted. Nothing is changed unless the whole file fits.
    public func load(_ file: SafeTensorsFile) throws(FileError) {
        let source = file.source
        var known = Set<String>()
        var values: [(ParameterVector<T>, ParameterEntry, [Double])] = []
        for vector in [parameters, state] {
            for entry in vector.layout.entries {
                known.insert(entry.name)
                guard let stored = file.entry(entry.name) else {
                    throw FileError(file: source, problem: "missing tensor '\(entry.name)' of \(name)")
                }
                guard stored.shape == entry.shape else {
                    throw FileError(file: source, problem: "tensor '\(entry.name)' has shape \(stored.shape), \(name) expects \(entry.shape)")
                }
                values.append((vector, entry, try file.doubles(entry.name)))
            }
        }
        var tracked: Int64?
        for entry in file.entries where !known.contains(entry.name) {
            guard entry.name.hasSuffix(".num_batches_tracked"),
                  known.contains(entry.name.replacingOccurrences(of: ".num_batches_tracked", with: ".running_mean")) else {
                throw FileError(file: source, problem: "tensor '\(entry.name)' is not part of \(name)")
            }
            guard entry.elementCount == 1, let count = try file.integers(entry.name).first, count >= 0 else {
                throw FileError(file: source, problem: "'\(entry.name)' must be one non-negative integer")
            }
            tracked = max(tracked ?? 0, count)
        }
        for (vector, entry, numbers) in values {
            let view = vector.view(entry)
            for i in view.indices { view[i] = T(numbers[i]) }
        }
        batchesTracked = Int(tracked ?? 0)
    }
}
