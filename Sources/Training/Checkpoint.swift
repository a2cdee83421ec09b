import Foundation
import LandscapeCore
import Networks

/// A checkpoint: a safetensors file of the network's `state_dict` with PyTorch names, and metadata
/// that rebuilds the model alone (the project's checkpoint contract).
public enum Checkpoint {
    /// The `format` metadata value of files this version writes.
    public static let format = "landscape-checkpoint/1"

    /// Writes `network` atomically to `url` with `metadata` (string values); `architecture` and
    /// `format` are added.
    public static func write(_ network: Network<Float>, metadata: [String: String], to url: URL) throws(FileError) {
        var metadata = metadata
        metadata["format"] = format
        if let architecture = network.architecture { metadata["architecture"] = architecture.json }
        try SafeTensorsWriter.write(network.stateDict(), metadata: metadata, to: url)
    }

    /// Reads a checkpoint into a new network. The model comes from the file's `architecture`
    /// metadata, or from `architecture` when the file has none (e.g. a bare PyTorch `state_dict`).
    public static func read(_ url: URL, architecture fallback: Architecture? = nil) throws -> (network: Network<Float>, metadata: [String: String]) {
        let file = try SafeTensorsFile(contentsOf: url)
        let architecture: Architecture
        if let json = file.metadata["architecture"] {
            architecture = try Architecture(json: json, source: url.path)
        } else if let fallback {
            architecture = fallback
        } else {
            throw FileError(file: url.path, problem: "no 'architecture' metadata; name the model (e.g. --model cnn)")
        }
        let network = Network<Float>(architecture)
        try network.load(file)
        return (network, file.metadata)
    }
}
