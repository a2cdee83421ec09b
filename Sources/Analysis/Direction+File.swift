import Foundation
import LandscapeCore
import Networks

/// Directions on disk: safetensors with the checkpoint's tensor names and shapes (the checkpoint
/// contract), so a direction written by another tool is used as is.
extension Direction {
    /// Writes the direction with `metadata` (how it was made) atomically.
    public func write<T: Scalar>(for network: Network<T>, metadata: [String: String], to url: URL) throws(FileError) {
        var tensors: [SafeTensorsTensor] = []
        for entry in network.parameters.layout.entries {
            tensors.append(SafeTensorsTensor(name: entry.name, shape: entry.shape, floats: parameters[entry.range].map(Float.init)))
        }
        if let state {
            for entry in network.state.layout.entries {
                tensors.append(SafeTensorsTensor(name: entry.name, shape: entry.shape, floats: state[entry.range].map(Float.init)))
            }
        }
        try SafeTensorsWriter.write(tensors, metadata: metadata, to: url)
    }

    /// Reads a direction for `network`: every tensor must be one of the model's with its shape;
    /// missing parameter tensors are zero; running statistics form a state direction when present.
    /// `num_batches_tracked` entries are ignored.
    public static func read<T: Scalar>(_ url: URL, for network: Network<T>) throws(FileError) -> Direction {
        let file = try SafeTensorsFile(contentsOf: url)
        var parameters = [Double](repeating: 0, count: network.parameters.count)
        var state: [Double]?
        for stored in file.entries where !stored.name.hasSuffix(".num_batches_tracked") {
            if let entry = network.parameters.layout.entry(named: stored.name) {
                try check(stored, entry, file)
                parameters.replaceSubrange(entry.range, with: try file.doubles(stored.name))
            } else if let entry = network.state.layout.entry(named: stored.name) {
                try check(stored, entry, file)
                if state == nil { state = [Double](repeating: 0, count: network.state.count) }
                state!.replaceSubrange(entry.range, with: try file.doubles(stored.name))
            } else {
                throw FileError(file: file.source, problem: "direction tensor '\(stored.name)' is not part of \(network.name)")
            }
        }
        return Direction(parameters: parameters, state: state)
    }

    private static func check(_ stored: SafeTensorsEntry, _ entry: ParameterEntry, _ file: SafeTensorsFile) throws(FileError) {
        guard stored.shape == entry.shape else {
            throw FileError(file: file.source, problem: "direction tensor '\(stored.name)' has shape \(stored.shape), the model's is \(entry.shape)")
        }
    }
}
