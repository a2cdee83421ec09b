import Foundation
import LandscapeCore
import Networks
import Testing
import Training

/// Our checkpoints load in PyTorch: `Tests/Fixtures/checkpoint/cnn-seed7.safetensors` was written by
/// this code and loaded into the reference CNN with `load_state_dict(strict=True)` by
/// `Tests/Fixtures/check_checkpoint_in_pytorch.py`. This test keeps the writer honest: it must still
/// produce that file byte for byte. (Set LANDSCAPE_UPDATE_FIXTURES=1 to rewrite it after a
/// deliberate format change, then rerun the Python check.)
struct CheckpointFixtureTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/checkpoint/cnn-seed7.safetensors")

    @Test("the writer reproduces the checkpoint that PyTorch loaded")
    func writerMatchesFixture() throws {
        let network = Network<Float>(.cnn)
        network.initialize(seed: 7)
        network.batchesTracked = 3
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-seed7-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.write(network, metadata: ["dataset": "none", "seed": "7"], to: url)
        if ProcessInfo.processInfo.environment["LANDSCAPE_UPDATE_FIXTURES"] == "1" {
            try FileManager.default.createDirectory(at: Self.fixture.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contentsOf: url).write(to: Self.fixture)
        }
        #expect(try Data(contentsOf: url) == Data(contentsOf: Self.fixture))
        let (loaded, metadata) = try Checkpoint.read(Self.fixture)
        #expect(Array(loaded.parameters.elements) == Array(network.parameters.elements))
        #expect(loaded.batchesTracked == 3)
        #expect(metadata["architecture"] == Architecture.cnn.json)
    }
}
