import Foundation
import LandscapeCore
import Networks
import Testing

/// One tensor of a hand-built safetensors file: any dtype, the little-endian bytes given directly.
private struct RawTensor {
    var name: String
    var dtype: String
    var shape: [Int]
    var bytes: [UInt8]
}

/// The little-endian bytes of each value.
private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

/// The bytes of a safetensors file holding `tensors` in the given order, header padded to 8 bytes.
private func safetensorsData(_ tensors: [RawTensor]) -> Data {
    var entries: [String] = []
    var data: [UInt8] = []
    for tensor in tensors {
        let shape = tensor.shape.map(String.init).joined(separator: ",")
        entries.append(#""\#(tensor.name)":{"dtype":"\#(tensor.dtype)","shape":[\#(shape)],"data_offsets":[\#(data.count),\#(data.count + tensor.bytes.count)]}"#)
        data += tensor.bytes
    }
    var json = Array("{\(entries.joined(separator: ","))}".utf8)
    json += Array(repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8)
    var bytes = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: json)
    bytes.append(contentsOf: data)
    return bytes
}

/// Saving a network's `state_dict` and loading it back, and loading files written elsewhere.
struct StateDictTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/parity")

    static let zoo: [Architecture] = [.mlp, .cnn, .resnet8, Architecture(family: .resnet, side: 8, depth: 14, width: 4)]

    /// A small cnn for the tests that build files by hand.
    static let small = Architecture(family: .cnn, side: 8)

    /// A network with random parameters, running statistics away from their defaults, and a
    /// non-zero batch counter.
    static func trained(_ architecture: Architecture, seed: UInt64 = 4) -> Network<Float> {
        let network = Network<Float>(architecture)
        network.initialize(seed: seed)
        var generator = RandomGenerator(seed: seed, stream: 9)
        for entry in network.state.layout.entries {
            for i in entry.range {
                network.state.pointer[i] = Float(entry.role == .runningMean ? generator.normal() : generator.uniform(0.5, 2))
            }
        }
        for entry in network.parameters.layout.entries where entry.role == .normScale || entry.role == .normShift {
            for i in entry.range { network.parameters.pointer[i] = Float(generator.uniform(-1, 1)) }
        }
        network.batchesTracked = 7
        return network
    }

    static func bits(_ vector: ParameterVector<Float>) -> [UInt32] { vector.elements.map(\.bitPattern) }

    static func file(_ tensors: [SafeTensorsTensor], source: String = "state.safetensors") throws -> SafeTensorsFile {
        try SafeTensorsFile(data: SafeTensorsWriter.encode(tensors, metadata: [:]), source: source)
    }

    /// The error `load` throws for `tensors`; the network must be left as it was.
    static func loadError(_ tensors: [SafeTensorsTensor], into network: Network<Float>) throws -> FileError {
        let (parameters, state, tracked) = (bits(network.parameters), bits(network.state), network.batchesTracked)
        let file = try Self.file(tensors, source: "broken.safetensors")
        let error = try #require(throws: FileError.self) { try network.load(file) }
        #expect(bits(network.parameters) == parameters, "a failed load changed the parameters")
        #expect(bits(network.state) == state, "a failed load changed the running statistics")
        #expect(network.batchesTracked == tracked)
        #expect(error.description.contains("broken.safetensors"), "\(error.description)")
        #expect(!error.description.contains("\n"))
        return error
    }

    // MARK: - Round trip

    @Test("stateDict() then load() into a fresh network is bit-identical", arguments: zoo)
    func roundTrip(_ architecture: Architecture) throws {
        let original = Self.trained(architecture)
        let fresh = Network<Float>(architecture)
        try fresh.load(Self.file(original.stateDict()))
        #expect(Self.bits(fresh.parameters) == Self.bits(original.parameters))
        #expect(Self.bits(fresh.state) == Self.bits(original.state))
        #expect(fresh.batchesTracked == (original.state.count > 0 ? 7 : 0))
        // And the reloaded network writes the same state_dict.
        let again = try SafeTensorsWriter.encode(fresh.stateDict(), metadata: [:])
        #expect(again == (try SafeTensorsWriter.encode(original.stateDict(), metadata: [:])))
    }

    @Test("the state_dict holds every tensor with PyTorch's name, shape and dtype", arguments: zoo)
    func stateDictContents(_ architecture: Architecture) throws {
        let network = Self.trained(architecture)
        let file = try Self.file(network.stateDict())
        let norms = network.state.layout.entries.filter { $0.role == .runningMean }.map { String($0.name.dropLast(".running_mean".count)) }
        #expect(file.entries.count == network.parameters.layout.entries.count + network.state.layout.entries.count + norms.count)
        for vector in [network.parameters, network.state] {
            for entry in vector.layout.entries {
                let stored = try #require(file.entry(entry.name))
                #expect(stored.dtype == .f32)
                #expect(stored.shape == entry.shape)
                #expect(try file.floats(entry.name).map(\.bitPattern) == vector.view(entry).map(\.bitPattern))
            }
        }
        for norm in norms {
            let counter = try #require(file.entry("\(norm).num_batches_tracked"))
            #expect(counter.dtype == .i64)
            #expect(counter.shape == [])
            #expect(try file.integers(counter.name) == [7])
        }
    }

    @Test("a file round-trips through the disk")
    func roundTripThroughFile() throws {
        let original = Self.trained(.resnet8)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("StateDictTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("resnet8.safetensors")
        try SafeTensorsWriter.write(original.stateDict(), metadata: ["architecture": Architecture.resnet8.json], to: url)

        let file = try SafeTensorsFile(contentsOf: url)
        let architecture = try Architecture(json: try #require(file.metadata["architecture"]), source: url.path)
        let fresh = Network<Float>(architecture)
        try fresh.load(file)
        #expect(Self.bits(fresh.parameters) == Self.bits(original.parameters))
        #expect(Self.bits(fresh.state) == Self.bits(original.state))
        #expect(fresh.batchesTracked == 7)
    }

    // MARK: - Rejections

    @Test("a missing tensor is rejected by name", arguments: ["conv1.weight", "bn1.bias", "bn2.running_var", "fc2.bias"])
    func missingTensor(_ name: String) throws {
        let tensors = Self.trained(Self.small).stateDict().filter { $0.name != name }
        let error = try Self.loadError(tensors, into: Self.trained(Self.small, seed: 5))
        #expect(error.problem.contains("missing tensor '\(name)'"), "\(error.description)")
    }

    /// An in-memory file is named by the source it was given, as `SafeTensorsFile`'s own errors name it.
    @Test("load errors name an in-memory file by its source")
    func errorNamesSource() throws {
        let tensors = Self.trained(Self.small).stateDict().filter { $0.name != "fc1.bias" }
        let network = Network<Float>(Self.small)
        let file = try Self.file(tensors, source: "memory.safetensors")
        let error = try #require(throws: FileError.self) { try network.load(file) }
        #expect(error.file == "memory.safetensors")
        #expect(error.description == "memory.safetensors: \(error.problem)")
    }

    @Test("a tensor of the wrong shape is rejected with both shapes")
    func wrongShape() throws {
        var tensors = Self.trained(Self.small).stateDict()
        let index = try #require(tensors.firstIndex { $0.name == "fc2.weight" })
        guard case .f32(let values) = tensors[index].payload else {
            Issue.record("fc2.weight is not F32")
            return
        }
        #expect(tensors[index].shape == [10, 128])
        tensors[index] = SafeTensorsTensor(name: "fc2.weight", shape: [128, 10], floats: values)
        let error = try Self.loadError(tensors, into: Self.trained(Self.small, seed: 5))
        #expect(error.problem.contains("tensor 'fc2.weight' has shape [128, 10]"), "\(error.description)")
        #expect(error.problem.contains("[10, 128]"), "\(error.description)")
    }

    @Test("a scalar where a vector belongs is a wrong shape")
    func scalarForVector() throws {
        var tensors = Self.trained(Self.small).stateDict().filter { $0.name != "fc2.bias" }
        tensors.append(SafeTensorsTensor(name: "fc2.bias", shape: [], floats: [0]))
        let error = try Self.loadError(tensors, into: Self.trained(Self.small, seed: 5))
        #expect(error.problem.contains("tensor 'fc2.bias' has shape []"), "\(error.description)")
    }

    @Test("a tensor the model does not have is rejected by name", arguments: [
        "fc3.weight", "conv1.bias", "bn3.num_batches_tracked", "fc1.num_batches_tracked", "extra",
    ])
    func unknownTensor(_ name: String) throws {
        var tensors = Self.trained(Self.small).stateDict()
        tensors.append(name.hasSuffix("num_batches_tracked")
            ? SafeTensorsTensor(name: name, shape: [], integers: [1])
            : SafeTensorsTensor(name: name, shape: [2], floats: [1, 2]))
        let error = try Self.loadError(tensors, into: Self.trained(Self.small, seed: 5))
        #expect(error.problem.contains("tensor '\(name)' is not part of cnn"), "\(error.description)")
    }

    @Test("a counter that is negative, not a single integer, or a float is rejected", arguments: [
        SafeTensorsTensor(name: "bn1.num_batches_tracked", shape: [], integers: [-1]),
        SafeTensorsTensor(name: "bn1.num_batches_tracked", shape: [2], integers: [1, 2]),
        SafeTensorsTensor(name: "bn1.num_batches_tracked", shape: [], floats: [3]),
    ])
    func badCounter(_ counter: SafeTensorsTensor) throws {
        let tensors = Self.trained(Self.small).stateDict().filter { $0.name != "bn1.num_batches_tracked" } + [counter]
        let error = try Self.loadError(tensors, into: Self.trained(Self.small, seed: 5))
        #expect(error.problem.contains("bn1.num_batches_tracked"), "\(error.description)")
    }

    @Test("a parameter stored as integers is rejected by name")
    func integerParameter() throws {
        let original = Self.trained(Self.small)
        let tensors = original.stateDict().filter { $0.name != "fc2.bias" } + [SafeTensorsTensor(name: "fc2.bias", shape: [10], integers: Array(0..<10))]
        let error = try Self.loadError(tensors, into: Self.trained(Self.small, seed: 5))
        #expect(error.problem.contains("'fc2.bias'"), "\(error.description)")
    }

    // MARK: - Accepted variations

    @Test("a file without num_batches_tracked loads and leaves the counter at 0")
    func withoutCounters() throws {
        let original = Self.trained(.cnn)
        let tensors = original.stateDict().filter { !$0.name.hasSuffix(".num_batches_tracked") }
        let network = Self.trained(.cnn, seed: 5)
        #expect(network.batchesTracked == 7)
        try network.load(Self.file(tensors))
        #expect(network.batchesTracked == 0)
        #expect(Self.bits(network.parameters) == Self.bits(original.parameters))
        #expect(Self.bits(network.state) == Self.bits(original.state))
    }

    @Test("counters may differ between layers and be I32; the largest is kept")
    func counters() throws {
        let original = Self.trained(Self.small)
        var tensors = original.stateDict().filter { !$0.name.hasSuffix(".num_batches_tracked") }
        tensors.append(SafeTensorsTensor(name: "bn1.num_batches_tracked", shape: [], integers: [12]))
        let network = Network<Float>(Self.small)
        try network.load(Self.file(tensors))
        #expect(network.batchesTracked == 12)

        let raw = tensors.map { tensor -> RawTensor in
            guard case .f32(let values) = tensor.payload else { return RawTensor(name: tensor.name, dtype: "I64", shape: [], bytes: littleEndianBytes([Int64(12)])) }
            return RawTensor(name: tensor.name, dtype: "F32", shape: tensor.shape, bytes: littleEndianBytes(values.map(\.bitPattern)))
        } + [RawTensor(name: "bn2.num_batches_tracked", dtype: "I32", shape: [1], bytes: littleEndianBytes([Int32(30)]))]
        try network.load(SafeTensorsFile(data: safetensorsData(raw), source: "i32.safetensors"))
        #expect(network.batchesTracked == 30)
        #expect(Self.bits(network.parameters) == Self.bits(original.parameters))
    }

    @Test("F64 tensors load, rounded to Float, and exactly into a Double network")
    func loadsF64() throws {
        let original = Self.trained(Self.small)
        // Values that need more than Float's precision, so rounding is visible.
        var generator = RandomGenerator(seed: 31)
        var doubles: [String: [Double]] = [:]
        var raw: [RawTensor] = []
        for vector in [original.parameters, original.state] {
            for entry in vector.layout.entries {
                let values = (0..<entry.count).map { _ in generator.uniform(-1, 1) }
                doubles[entry.name] = values
                raw.append(RawTensor(name: entry.name, dtype: "F64", shape: entry.shape, bytes: littleEndianBytes(values.map(\.bitPattern))))
            }
        }
        raw.append(RawTensor(name: "bn1.num_batches_tracked", dtype: "I64", shape: [], bytes: littleEndianBytes([Int64(3)])))
        let file = try SafeTensorsFile(data: safetensorsData(raw), source: "f64.safetensors")

        let single = Network<Float>(Self.small)
        try single.load(file)
        let double = Network<Double>(Self.small)
        try double.load(file)
        #expect(single.batchesTracked == 3 && double.batchesTracked == 3)
        for entry in single.parameters.layout.entries {
            let expected = try #require(doubles[entry.name])
            #expect(single.parameters.view(entry).map(\.bitPattern) == expected.map { Float($0).bitPattern }, "\(entry.name)")
            #expect(double.parameters.view(entry).map(\.bitPattern) == expected.map(\.bitPattern), "\(entry.name)")
        }
        for entry in single.state.layout.entries {
            let expected = try #require(doubles[entry.name])
            #expect(single.state.view(entry).map(\.bitPattern) == expected.map { Float($0).bitPattern }, "\(entry.name)")
            #expect(double.state.view(entry).map(\.bitPattern) == expected.map(\.bitPattern), "\(entry.name)")
        }
    }

    @Test("F16 and BF16 tensors load exactly")
    func loadsHalfPrecision() throws {
        let original = Self.trained(Self.small)
        var raw: [RawTensor] = []
        var expected: [String: [Float]] = [:]
        for (index, vector) in [original.parameters, original.state].enumerated() {
            for entry in vector.layout.entries {
                let values = Array(vector.view(entry))
                if index == 0 && entry.role == .weight {
                    // BF16 is the top half of a Float (truncated here, which is still a BF16 value).
                    let halves = values.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) }
                    expected[entry.name] = halves.map { Float(bitPattern: UInt32($0) << 16) }
                    raw.append(RawTensor(name: entry.name, dtype: "BF16", shape: entry.shape, bytes: littleEndianBytes(halves)))
                } else {
                    let halves = values.map { Float16($0) }
                    expected[entry.name] = halves.map { Float($0) }
                    raw.append(RawTensor(name: entry.name, dtype: "F16", shape: entry.shape, bytes: littleEndianBytes(halves.map(\.bitPattern))))
                }
            }
        }
        let network = Network<Float>(Self.small)
        try network.load(SafeTensorsFile(data: safetensorsData(raw), source: "f16.safetensors"))
        #expect(network.batchesTracked == 0)
        for vector in [network.parameters, network.state] {
            for entry in vector.layout.entries {
                let values = try #require(expected[entry.name])
                #expect(vector.view(entry).map(\.bitPattern) == values.map(\.bitPattern), "\(entry.name)")
            }
        }
        // Half precision really did round: the loaded weights are not the originals.
        #expect(Self.bits(network.parameters) != Self.bits(original.parameters))
    }

    // MARK: - PyTorch's file

    @Test("the state_dict written by PyTorch for the cnn loads with its exact floats")
    func pytorchFixture() throws {
        let file = try SafeTensorsFile(contentsOf: Self.fixtures.appendingPathComponent("cnn.weights.safetensors"))
        let architecture = try Architecture(json: try #require(file.metadata["architecture"]), source: "cnn.weights.safetensors")
        #expect(architecture == .cnn)
        let network = Network<Float>(architecture)
        network.batchesTracked = 5
        try network.load(file)
        #expect(network.batchesTracked == 0)
        #expect(try file.integers("bn1.num_batches_tracked") == [0])

        let conv1 = try file.floats("conv1.weight")
        #expect(conv1.count == 16 * 9)
        #expect(Array(network.parameters["conv1.weight"]).map(\.bitPattern) == conv1.map(\.bitPattern))
        // PyTorch's default initialisation: within 1/sqrt(9) and not all zero.
        #expect(conv1.allSatisfy { abs($0) <= 1.0 / 3 } && conv1.contains { $0 != 0 })
        for vector in [network.parameters, network.state] {
            for entry in vector.layout.entries {
                #expect(vector.view(entry).map(\.bitPattern) == (try file.floats(entry.name)).map(\.bitPattern), "\(entry.name)")
            }
        }
        #expect(network.state["bn1.running_mean"].allSatisfy { $0 == 0 })
        #expect(network.state["bn2.running_var"].allSatisfy { $0 == 1 })
    }
}
