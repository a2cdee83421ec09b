import Analysis
import Foundation
import LandscapeCore
import Networks
import Testing

/// Random directions and their normalizations (Li et al. 2018), Gram-Schmidt, interpolation
/// directions, and directions on disk, on a small cnn with batch-norm.
struct DirectionTests {
    /// A cnn on 8 x 8 single-channel images: conv and linear weights, batch-norm and biases.
    static func network(seed: UInt64 = 0) -> Network<Float> {
        let network = Network<Float>(Architecture(family: .cnn, side: 8))
        network.initialize(seed: seed)
        return network
    }

    /// A fresh directory for one test's files.
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("DirectionTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func norm<C: Collection>(_ v: C) -> Double where C.Element == Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    /// The network's parameters as doubles.
    static func weights(_ network: Network<Float>) -> [Double] { network.parameters.elements.map(Double.init) }

    /// `|a - b| <= tolerance * |b|`.
    static func close(_ a: Double, _ b: Double, relative tolerance: Double) -> Bool { abs(a - b) <= tolerance * abs(b) }

    // MARK: - Normalizations

    @Test("filter normalization gives each filter of each weight tensor the norm of the weight's filter")
    func filterNormalization() throws {
        let network = Self.network()
        let w = Self.weights(network)
        let d = Direction.random(like: network, seed: 7, normalization: .filter)
        #expect(d.parameters.count == network.parameters.count)
        #expect(d.state == nil)
        var filtersChecked = 0
        let weightEntries = network.parameters.layout.entries.filter { $0.role == .weight }
        #expect(weightEntries.map(\.name) == ["conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight"])
        for entry in weightEntries {
            let filters = entry.shape[0], size = entry.count / filters
            for f in 0..<filters {
                let run = (entry.offset + f * size)..<(entry.offset + (f + 1) * size)
                let directionNorm = Self.norm(d.parameters[run]), weightNorm = Self.norm(w[run])
                #expect(weightNorm > 0)
                #expect(Self.close(directionNorm, weightNorm, relative: 1e-6), "\(entry.name) filter \(f): \(directionNorm) vs \(weightNorm)")
                filtersChecked += 1
            }
        }
        #expect(filtersChecked == 16 + 32 + 128 + 10)
    }

    @Test("1-D tensors get a zero direction with ignoreBiasAndNorm and a copy of the weights without",
          arguments: DirectionNormalization.allCases)
    func oneDimensionalTensors(normalization: DirectionNormalization) throws {
        let network = Self.network()
        let w = Self.weights(network)
        let ignored = Direction.random(like: network, seed: 3, normalization: normalization, ignoreBiasAndNorm: true)
        let kept = Direction.random(like: network, seed: 3, normalization: normalization, ignoreBiasAndNorm: false)
        let oneDimensional = network.parameters.layout.entries.filter { $0.shape.count == 1 }
        #expect(Set(oneDimensional.map(\.role)) == [.normScale, .normShift, .bias])
        for entry in oneDimensional {
            #expect(ignored.parameters[entry.range].allSatisfy { $0 == 0 }, "\(entry.name)")
            #expect(Array(kept.parameters[entry.range]) == Array(w[entry.range]), "\(entry.name)")
        }
        // The weight tensors do not depend on what happens to the 1-D ones.
        for entry in network.parameters.layout.entries where entry.shape.count > 1 {
            #expect(Array(ignored.parameters[entry.range]) == Array(kept.parameters[entry.range]), "\(entry.name)")
        }
    }

    @Test("layer normalization gives each weight tensor the weight tensor's norm")
    func layerNormalization() throws {
        let network = Self.network()
        let w = Self.weights(network)
        let d = Direction.random(like: network, seed: 11, normalization: .layer)
        for entry in network.parameters.layout.entries where entry.shape.count > 1 {
            let directionNorm = Self.norm(d.parameters[entry.range]), weightNorm = Self.norm(w[entry.range])
            #expect(Self.close(directionNorm, weightNorm, relative: 1e-6), "\(entry.name): \(directionNorm) vs \(weightNorm)")
            // Not filter by filter: the first filters' norms differ from the weight's.
            let size = entry.count / entry.shape[0]
            let first = entry.offset..<(entry.offset + size)
            #expect(!Self.close(Self.norm(d.parameters[first]), Self.norm(w[first]), relative: 1e-6), "\(entry.name)")
        }
    }

    @Test("weight normalization is the raw Gaussian direction times the weights, elementwise")
    func weightNormalization() throws {
        let network = Self.network()
        let w = Self.weights(network)
        let raw = Direction.random(like: network, seed: 5, normalization: .none)
        let scaled = Direction.random(like: network, seed: 5, normalization: .weight)
        for entry in network.parameters.layout.entries where entry.shape.count > 1 {
            for i in entry.range {
                #expect(scaled.parameters[i] == raw.parameters[i] * w[i], "\(entry.name) element \(i - entry.offset)")
            }
        }
    }

    @Test("dfilter gives unit filters and dlayer unit tensors")
    func unitNormalizations() throws {
        let network = Self.network()
        let byFilter = Direction.random(like: network, seed: 9, normalization: .dfilter)
        let byLayer = Direction.random(like: network, seed: 9, normalization: .dlayer)
        for entry in network.parameters.layout.entries where entry.shape.count > 1 {
            let size = entry.count / entry.shape[0]
            for f in 0..<entry.shape[0] {
                let run = (entry.offset + f * size)..<(entry.offset + (f + 1) * size)
                #expect(Self.close(Self.norm(byFilter.parameters[run]), 1, relative: 1e-6), "\(entry.name) filter \(f)")
            }
            #expect(Self.close(Self.norm(byLayer.parameters[entry.range]), 1, relative: 1e-6), "\(entry.name)")
        }
    }

    @Test("a Gaussian direction is the same for the same seed and differs for another seed")
    func seeds() throws {
        let network = Self.network()
        let a = Direction.random(like: network, seed: 42, normalization: .none)
        let b = Direction.random(like: network, seed: 42, normalization: .none)
        let c = Direction.random(like: network, seed: 43, normalization: .none)
        #expect(a == b)
        #expect(a.parameters != c.parameters)
        // Standard normal draws: the mean square over the weight entries is about 1.
        let entries = network.parameters.layout.entries.filter { $0.shape.count > 1 }
        let drawn = entries.flatMap { a.parameters[$0.range] }
        let meanSquare = drawn.reduce(0) { $0 + $1 * $1 } / Double(drawn.count)
        #expect(abs(meanSquare - 1) < 0.1)
        // Another network of the same model does not change the raw draws.
        #expect(Direction.random(like: Self.network(seed: 99), seed: 42, normalization: .none) == a)
    }

    @Test("includeState adds a state direction of the state's length: zero when 1-D tensors are ignored, the statistics otherwise")
    func stateDirection() throws {
        let network = Self.network()
        // Statistics other than the initial 0 and 1, so a copy is told apart from a constant.
        for (i, _) in network.state.elements.enumerated() { network.state.elements[i] = Float(i % 7) * 0.25 + 0.5 }
        let without = Direction.random(like: network, seed: 4)
        let ignored = Direction.random(like: network, seed: 4, includeState: true)
        let kept = Direction.random(like: network, seed: 4, ignoreBiasAndNorm: false, includeState: true)
        #expect(network.state.count == 2 * (16 + 32))
        let zeroState = try #require(ignored.state)
        #expect(zeroState.count == network.state.count)
        #expect(zeroState.allSatisfy { $0 == 0 })
        let copiedState = try #require(kept.state)
        #expect(copiedState == network.state.elements.map(Double.init))
        // The state is drawn after the parameters, which stay as without it.
        #expect(ignored.parameters == without.parameters)
    }

    // MARK: - Gram-Schmidt

    @Test("orthogonalized(to:) removes the component along the other direction, parameters and state together")
    func orthogonalization() throws {
        let network = Self.network()
        let first = Direction.random(like: network, seed: 1, ignoreBiasAndNorm: false, includeState: true)
        let second = Direction.random(like: network, seed: 2, ignoreBiasAndNorm: false, includeState: true)
        let result = second.orthogonalized(to: first)
        let resultState = try #require(result.state), firstState = try #require(first.state)
        #expect(resultState.count == firstState.count)
        let dot = Self.dot(result.parameters, first.parameters) + Self.dot(resultState, firstState)
        let scale = (Self.dot(result.parameters, result.parameters) + Self.dot(resultState, resultState)).squareRoot()
            * (Self.dot(first.parameters, first.parameters) + Self.dot(firstState, firstState)).squareRoot()
        #expect(abs(dot) <= 1e-9 * scale, "dot \(dot), scale \(scale)")
        // The difference is a multiple of the first direction.
        let removed = zip(second.parameters, result.parameters).map { $0 - $1 }
        let c = Self.dot(removed, first.parameters) / Self.dot(first.parameters, first.parameters)
        for i in stride(from: 0, to: removed.count, by: 97) {
            #expect(abs(removed[i] - c * first.parameters[i]) <= 1e-12 * (1 + abs(removed[i])))
        }
    }

    @Test("orthogonalized(to:) leaves a direction already orthogonal unchanged and takes off exactly the added multiple")
    func orthogonalComponentUnchanged() throws {
        let network = Self.network()
        let count = network.parameters.count, half = count / 2
        // Disjoint supports: e is orthogonal to d.
        let drawn = Direction.random(like: network, seed: 8, normalization: .none)
        let d = Direction(parameters: (0..<count).map { $0 < half ? drawn.parameters[$0] + 0.5 : 0 }, state: nil)
        let e = Direction(parameters: (0..<count).map { $0 >= half ? drawn.parameters[$0] - 0.25 : 0 }, state: nil)
        #expect(e.orthogonalized(to: d) == e)
        let mixed = Direction(parameters: zip(e.parameters, d.parameters).map { $0 + 3 * $1 }, state: nil)
        let result = mixed.orthogonalized(to: d)
        #expect(result.state == nil)
        for i in 0..<count {
            #expect(abs(result.parameters[i] - e.parameters[i]) <= 1e-12 * (1 + abs(e.parameters[i])), "element \(i)")
        }
        // A zero direction has no component to remove.
        let zero = Direction(parameters: [Double](repeating: 0, count: count), state: nil)
        #expect(e.orthogonalized(to: zero) == e)
    }

    @Test("orthogonalized(to:) a direction with running statistics, from one without, is orthogonal over both")
    func orthogonalizationAgainstStateDirection() throws {
        // As with --direction-files when only the first file holds running statistics.
        let network = Self.network()
        let first = Direction.random(like: network, seed: 1, ignoreBiasAndNorm: false, includeState: true)
        let second = Direction.random(like: network, seed: 2, ignoreBiasAndNorm: false, includeState: false)
        let result = second.orthogonalized(to: first)
        let firstState = try #require(first.state)
        let resultState = result.state ?? [Double](repeating: 0, count: firstState.count)
        let dot = Self.dot(result.parameters, first.parameters) + Self.dot(resultState, firstState)
        let scale = (Self.dot(result.parameters, result.parameters) + Self.dot(resultState, resultState)).squareRoot()
            * (Self.dot(first.parameters, first.parameters) + Self.dot(firstState, firstState)).squareRoot()
        #expect(result.state != nil)
        #expect(abs(dot) <= 1e-9 * scale, "dot \(dot), scale \(scale)")
    }

    // MARK: - Interpolation

    @Test("between(a, b) is b - a for the parameters and the running statistics")
    func between() throws {
        let a = Self.network(seed: 1), b = Self.network(seed: 2)
        for (i, _) in b.state.elements.enumerated() { b.state.elements[i] = Float(i) * 0.125 - 1 }
        let d = Direction.between(a, b)
        let expected = zip(b.parameters.elements, a.parameters.elements).map { Double($0) - Double($1) }
        #expect(d.parameters == expected)
        let state = try #require(d.state)
        #expect(state == zip(b.state.elements, a.state.elements).map { Double($0) - Double($1) })
        #expect(state.contains { $0 != 0 })
        // From a network to itself: all zero.
        let none = Direction.between(a, a)
        #expect(none.parameters.allSatisfy { $0 == 0 })
        #expect(none.state?.allSatisfy { $0 == 0 } == true)
    }

    // MARK: - Files

    @Test("write and read give back the direction rounded to Float, state included, with the metadata")
    func roundTrip() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Self.network()
        let metadata = ["normalization": "filter", "seed": "17", "note": "ρ = 0.05"]
        for includeState in [false, true] {
            let d = Direction.random(like: network, seed: 17, ignoreBiasAndNorm: false, includeState: includeState)
            let url = directory.appendingPathComponent("direction-\(includeState).safetensors")
            try d.write(for: network, metadata: metadata, to: url)
            let read = try Direction.read(url, for: network)
            #expect(read.parameters.map { Float($0).bitPattern } == d.parameters.map { Float($0).bitPattern })
            #expect(read.parameters == d.parameters.map { Double(Float($0)) })
            if includeState {
                let state = try #require(read.state)
                #expect(state == d.state!.map { Double(Float($0)) })
            } else {
                #expect(read.state == nil)
            }
            let file = try SafeTensorsFile(contentsOf: url)
            #expect(file.metadata == metadata)
            let names = network.parameters.layout.entries.map(\.name) + (includeState ? network.state.layout.entries.map(\.name) : [])
            #expect(file.entries.map(\.name) == names.sorted())
            for entry in network.parameters.layout.entries {
                #expect(file.entry(entry.name)?.shape == entry.shape)
            }
        }
    }

    @Test("a direction tensor the model does not have is an error naming it")
    func unknownTensor() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Self.network()
        let url = directory.appendingPathComponent("unknown.safetensors")
        try SafeTensorsWriter.write([
            SafeTensorsTensor(name: "fc2.bias", shape: [10], floats: [Float](repeating: 1, count: 10)),
            SafeTensorsTensor(name: "conv9.weight", shape: [2, 2], floats: [1, 2, 3, 4]),
        ], metadata: [:], to: url)
        let error = try #require(throws: FileError.self) { try Direction.read(url, for: network) }
        #expect(error.file == url.path)
        #expect(error.problem.contains("'conv9.weight'"))
    }

    @Test("a direction tensor with the wrong shape is an error naming it and both shapes")
    func wrongShape() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Self.network()
        let url = directory.appendingPathComponent("transposed.safetensors")
        try SafeTensorsWriter.write([
            SafeTensorsTensor(name: "fc2.weight", shape: [128, 10], floats: [Float](repeating: 1, count: 1280)),
        ], metadata: [:], to: url)
        let error = try #require(throws: FileError.self) { try Direction.read(url, for: network) }
        #expect(error.file == url.path)
        #expect(error.problem.contains("'fc2.weight'"))
        #expect(error.problem.contains("[128, 10]"))
        #expect(error.problem.contains("[10, 128]"))

        let state = directory.appendingPathComponent("state.safetensors")
        try SafeTensorsWriter.write([
            SafeTensorsTensor(name: "bn2.running_var", shape: [16], floats: [Float](repeating: 1, count: 16)),
        ], metadata: [:], to: state)
        let stateError = try #require(throws: FileError.self) { try Direction.read(state, for: network) }
        #expect(stateError.problem.contains("'bn2.running_var'"))
    }

    @Test("tensors missing from a direction file read as zero; num_batches_tracked is ignored")
    func missingTensors() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Self.network()
        let fc2 = (0..<1280).map { Float($0) / 1024 - 0.5 }
        let url = directory.appendingPathComponent("partial.safetensors")
        try SafeTensorsWriter.write([
            SafeTensorsTensor(name: "fc2.weight", shape: [10, 128], floats: fc2),
            SafeTensorsTensor(name: "bn1.num_batches_tracked", shape: [], integers: [12]),
        ], metadata: [:], to: url)
        let d = try Direction.read(url, for: network)
        #expect(d.state == nil)
        #expect(d.parameters.count == network.parameters.count)
        let entry = try #require(network.parameters.layout.entry(named: "fc2.weight"))
        for (i, value) in d.parameters.enumerated() {
            let expected = entry.range.contains(i) ? Double(fc2[i - entry.offset]) : 0
            #expect(value == expected, "element \(i)")
        }

        // One running statistic present: a state direction, zero elsewhere.
        let withState = directory.appendingPathComponent("state.safetensors")
        try SafeTensorsWriter.write([
            SafeTensorsTensor(name: "bn2.running_mean", shape: [32], floats: [Float](repeating: 2, count: 32)),
        ], metadata: [:], to: withState)
        let s = try Direction.read(withState, for: network)
        #expect(s.parameters.allSatisfy { $0 == 0 })
        let state = try #require(s.state)
        let mean = try #require(network.state.layout.entry(named: "bn2.running_mean"))
        for (i, value) in state.enumerated() {
            #expect(value == (mean.range.contains(i) ? 2 : 0), "state element \(i)")
        }
    }

    @Test("a checkpoint's state dict reads as a direction equal to its tensors")
    func checkpointAsDirection() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = Self.network(seed: 3)
        network.batchesTracked = 5
        let url = directory.appendingPathComponent("model.safetensors")
        try SafeTensorsWriter.write(network.stateDict(), metadata: [:], to: url)
        let d = try Direction.read(url, for: network)
        #expect(d.parameters == Self.weights(network))
        #expect(d.state == network.state.elements.map(Double.init))
    }
}
