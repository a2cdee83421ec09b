import LandscapeCore
import Networks
import Numerics
import Testing

/// The zoo's descriptions: names, the checkpoint's JSON form, FLOP counts, and tensor names and
/// sizes against PyTorch's models of the same name.
struct ArchitectureTests {
    static let resnet14x32 = Architecture(family: .resnet, depth: 14, width: 32)

    // MARK: - JSON

    @Test("the JSON form reads back to the same architecture", arguments: [
        Architecture.mlp, .cnn, .resnet8, resnet14x32,
        Architecture(family: .mlp, channels: 3, side: 32, classes: 100, hidden: 64),
        Architecture(family: .cnn, channels: 3, side: 32, classes: 100),
        Architecture(family: .resnet, channels: 3, side: 32, classes: 100),
        Architecture(family: .resnet, depth: 20),
        Architecture(family: .resnet, depth: 8, width: 8),
    ])
    func jsonRoundTrip(_ architecture: Architecture) throws {
        let decoded = try Architecture(json: architecture.json, source: "test")
        #expect(decoded == architecture)
        #expect(decoded.json == architecture.json)
        #expect(architecture.description == architecture.json)
    }

    @Test("the reference models have the checkpoint's exact JSON strings", arguments: [
        (Architecture.mlp, #"{"name":"mlp","inputs":784,"hidden":256,"classes":10,"channels":1,"side":28}"#),
        (.cnn, #"{"name":"cnn","channels":1,"classes":10,"side":28}"#),
        (.resnet8, #"{"name":"resnet8","channels":1,"classes":10,"side":28}"#),
        (resnet14x32, #"{"name":"resnet","depth":14,"width":32,"channels":1,"classes":10,"side":28}"#),
    ] as [(Architecture, String)])
    func referenceJSON(_ architecture: Architecture, json: String) throws {
        #expect(architecture.json == json)
        #expect(try Architecture(json: json, source: "checkpoint") == architecture)
    }

    @Test("JSON keys may come in any order and missing ones take the defaults")
    func jsonDefaultsAndOrder() throws {
        #expect(try Architecture(json: #"{"side":28,"classes":10,"name":"cnn","channels":1}"#, source: "s") == .cnn)
        #expect(try Architecture(json: #"{"name":"cnn"}"#, source: "s") == .cnn)
        #expect(try Architecture(json: #"{"name":"mlp"}"#, source: "s") == .mlp)
        #expect(try Architecture(json: #"{"name":"resnet8"}"#, source: "s") == .resnet8)
        #expect(try Architecture(json: #"{"name":"resnet20"}"#, source: "s") == Architecture(family: .resnet, depth: 20))
        #expect(try Architecture(json: #"{"name":"resnet","depth":8,"width":16}"#, source: "s") == .resnet8)
        #expect(try Architecture(json: #" { "name" : "cnn" , "side" : 32 } "#, source: "s") == Architecture(family: .cnn, side: 32))
    }

    // MARK: - Names

    @Test("zoo names build the reference models", arguments: [
        ("mlp", Architecture.mlp), ("cnn", .cnn), ("resnet8", .resnet8), ("resnet20", Architecture(family: .resnet, depth: 20)),
        ("resnet32", Architecture(family: .resnet, depth: 32)),
    ] as [(String, Architecture)])
    func names(_ name: String, architecture: Architecture) throws {
        let built = try Architecture(name: name)
        #expect(built == architecture)
        #expect(built.name == name)
    }

    @Test("a name's arguments are kept: channels, side, classes and a ResNet's width")
    func nameArguments() throws {
        let resnet = try Architecture(name: "resnet20", channels: 3, side: 32, classes: 100, width: 32)
        #expect(resnet == Architecture(family: .resnet, channels: 3, side: 32, classes: 100, depth: 20, width: 32))
        #expect(resnet.name == "resnet20")
        let cnn = try Architecture(name: "cnn", channels: 3, side: 32, classes: 100)
        #expect(cnn == Architecture(family: .cnn, channels: 3, side: 32, classes: 100))
        // A wider depth-8 ResNet is not the reference resnet8, so its JSON spells out depth and width.
        let wide = try Architecture(name: "resnet8", width: 32)
        #expect(wide.json == #"{"name":"resnet","depth":8,"width":32,"channels":1,"classes":10,"side":28}"#)
        #expect(try Architecture(json: wide.json, source: "s") == wide)
    }

    @Test("unknown names and impossible depths throw an error naming the problem", arguments: [
        ("vgg", ["unknown model 'vgg'"]),
        ("resnet", ["unknown model 'resnet'"]),
        ("resnet9", ["depth must be 6k + 2", "got 9"]),
        ("resnet2", ["depth must be 6k + 2", "got 2"]),
        ("resnet10", ["depth must be 6k + 2", "got 10"]),
        ("resnetx", ["unknown model 'resnetx'"]),
        ("", ["unknown model ''"]),
        ("MLP", ["unknown model 'MLP'"]),
    ] as [(String, [String])])
    func badNames(_ name: String, fragments: [String]) throws {
        let error = try #require(throws: ArchitectureError.self) { try Architecture(name: name) }
        for fragment in fragments {
            #expect(error.description.contains(fragment), "\(error.description)")
        }
    }

    @Test("arguments a user can get wrong are rejected", arguments: [
        (Architecture(family: .cnn, side: 3), "side must be at least 4"),
        (Architecture(family: .resnet, side: 2), "side must be at least 4"),
        (Architecture(family: .mlp, side: 0), "side must be positive"),
        (Architecture(family: .mlp, classes: 1), "classes at least 2"),
        (Architecture(family: .cnn, channels: 0), "must be positive"),
        (Architecture(family: .resnet, width: 0), "must be positive"),
    ] as [(Architecture, String)])
    func invalidArguments(_ architecture: Architecture, fragment: String) throws {
        let error = try #require(throws: ArchitectureError.self) { try architecture.validate() }
        #expect(error.description.contains(fragment), "\(error.description)")
    }

    /// Problems of the JSON itself name the source; arguments that fail validation name the model.
    @Test("bad JSON throws an error naming the problem", arguments: [
        (#"{"name":"#, ["model.safetensors: ", "not a JSON object"]),
        (#"["cnn"]"#, ["model.safetensors: ", "not a JSON object"]),
        (#"{"side":28}"#, ["model.safetensors: ", #"with a "name""#]),
        (#"{"name":3}"#, ["model.safetensors: ", #"with a "name""#]),
        ("", ["model.safetensors: ", "not a JSON object"]),
        (#"{"name":"cnn","side":"28"}"#, ["model.safetensors: ", #"field "side" is not an integer"#]),
        (#"{"name":"cnn","channels":1.5}"#, ["model.safetensors: ", #"field "channels" is not an integer"#]),
        (#"{"name":"mlp","hidden":[256]}"#, ["model.safetensors: ", #"field "hidden" is not an integer"#]),
        (#"{"name":"resnet","depth":"8"}"#, ["model.safetensors: ", #"field "depth" is not an integer"#]),
        (#"{"name":"resnet","width":null}"#, ["model.safetensors: ", #"field "width" is not an integer"#]),
        (#"{"name":"mlp","inputs":100,"side":28}"#, ["model.safetensors: ", "mlp inputs 100", "784"]),
        (#"{"name":"resnet","depth":9}"#, ["depth must be 6k + 2", "got 9"]),
        (#"{"name":"vgg"}"#, ["unknown model 'vgg'"]),
        (#"{"name":"cnn","side":2}"#, ["side must be at least 4"]),
    ] as [(String, [String])])
    func badJSON(_ json: String, fragments: [String]) throws {
        let error = try #require(throws: ArchitectureError.self) { try Architecture(json: json, source: "model.safetensors") }
        for fragment in fragments {
            #expect(error.description.contains(fragment), "\(error.description)")
        }
    }

    /// JSON `true` and `false` are not integers, as the safetensors reader also holds for its sizes.
    @Test("a boolean architecture field is rejected as not an integer", arguments: [
        (#"{"name":"cnn","channels":true}"#, "channels"),
        (#"{"name":"resnet","depth":8,"width":true}"#, "width"),
    ])
    func booleanField(_ json: String, field: String) throws {
        let error = #expect(throws: ArchitectureError.self) { try Architecture(json: json, source: "model.safetensors") }
        #expect(error?.description.contains(#"field "\#(field)" is not an integer"#) == true, "\(String(describing: error))")
    }

    // MARK: - FLOPs

    @Test("forward FLOPs of the reference models")
    func forwardFLOPs() {
        // mlp: 2 (784 * 256 + 256 * 256 + 256 * 10).
        #expect(Architecture.mlp.forwardFLOPs == 537_600)
        #expect(Architecture.mlp.forwardFLOPs == 2 * (784 * 256 + 256 * 256 + 256 * 10))
        // cnn: conv1 at 28x28, conv2 at 14x14, fc1 from 32 x 7 x 7, fc2.
        let cnn = 2 * 28 * 28 * 16 * 1 * 9 + 2 * 14 * 14 * 32 * 16 * 9 + 2 * 1568 * 128 + 2 * 128 * 10
        #expect(cnn == 2_436_096)
        #expect(Architecture.cnn.forwardFLOPs == 2_436_096)
    }

    @Test("forward FLOPs of resnet8, layer by layer")
    func resnet8FLOPs() {
        func conv(side: Int, inputs: Int, outputs: Int, kernel: Int) -> Int { 2 * side * side * inputs * outputs * kernel * kernel }
        let stem = conv(side: 28, inputs: 1, outputs: 16, kernel: 3)
        let layer1 = 2 * conv(side: 28, inputs: 16, outputs: 16, kernel: 3)
        let layer2 = conv(side: 14, inputs: 16, outputs: 32, kernel: 3) + conv(side: 14, inputs: 32, outputs: 32, kernel: 3)
            + conv(side: 14, inputs: 16, outputs: 32, kernel: 1)
        let layer3 = conv(side: 7, inputs: 32, outputs: 64, kernel: 3) + conv(side: 7, inputs: 64, outputs: 64, kernel: 3)
            + conv(side: 7, inputs: 32, outputs: 64, kernel: 1)
        let fc = 2 * 64 * 10
        #expect(stem == 225_792)
        #expect(layer1 == 7_225_344)
        #expect(layer2 == 5_619_712)
        #expect(layer3 == 5_619_712)
        #expect(stem + layer1 + layer2 + layer3 + fc == 18_691_840)
        #expect(Architecture.resnet8.forwardFLOPs == 18_691_840)
    }

    @Test("FLOPs grow with depth and with the square of the width")
    func flopsScale() {
        let resnet20 = Architecture(family: .resnet, depth: 20).forwardFLOPs
        #expect(resnet20 > Architecture.resnet8.forwardFLOPs)
        // Three blocks per stage instead of one: two more identity blocks per stage.
        let extra = 2 * (2 * 2 * 28 * 28 * 16 * 16 * 9 + 2 * 2 * 14 * 14 * 32 * 32 * 9 + 2 * 2 * 7 * 7 * 64 * 64 * 9)
        #expect(resnet20 == Architecture.resnet8.forwardFLOPs + extra)
    }

    // MARK: - Tensors

    @Test("the cnn's parameter and state names are PyTorch's, in order")
    func cnnNames() {
        let network = Network<Float>(.cnn)
        #expect(network.parameters.layout.entries.map(\.name) == [
            "conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias",
            "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias",
        ])
        #expect(network.parameters.layout.entries.map(\.shape) == [
            [16, 1, 3, 3], [16], [16], [32, 16, 3, 3], [32], [32], [128, 1568], [128], [10, 128], [10],
        ])
        #expect(network.state.layout.entries.map(\.name) == [
            "bn1.running_mean", "bn1.running_var", "bn2.running_mean", "bn2.running_var",
        ])
        #expect(network.parameters.layout.entries.map(\.role) == [
            .weight, .normScale, .normShift, .weight, .normScale, .normShift, .weight, .bias, .weight, .bias,
        ])
    }

    @Test("the mlp's tensors are fc1...fc3 and it has no state")
    func mlpNames() {
        let network = Network<Float>(.mlp)
        #expect(network.parameters.layout.entries.map(\.name) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"])
        #expect(network.parameters.layout.entries.map(\.shape) == [[256, 784], [256], [256, 256], [256], [10, 256], [10]])
        #expect(network.state.count == 0)
        #expect(network.state.layout.entries.isEmpty)
    }

    @Test("resnet8's parameter and state names are PyTorch's named_parameters and running buffers, in order")
    func resnet8Names() throws {
        let network = Network<Float>(.resnet8)
        #expect(network.parameters.layout.entries.map(\.name) == [
            "conv1.weight", "bn1.weight", "bn1.bias",
            "layer1.conv1.weight", "layer1.bn1.weight", "layer1.bn1.bias",
            "layer1.conv2.weight", "layer1.bn2.weight", "layer1.bn2.bias",
            "layer2.conv1.weight", "layer2.bn1.weight", "layer2.bn1.bias",
            "layer2.conv2.weight", "layer2.bn2.weight", "layer2.bn2.bias",
            "layer2.shortcut.0.weight", "layer2.shortcut.1.weight", "layer2.shortcut.1.bias",
            "layer3.conv1.weight", "layer3.bn1.weight", "layer3.bn1.bias",
            "layer3.conv2.weight", "layer3.bn2.weight", "layer3.bn2.bias",
            "layer3.shortcut.0.weight", "layer3.shortcut.1.weight", "layer3.shortcut.1.bias",
            "fc.weight", "fc.bias",
        ])
        #expect(network.state.layout.entries.map(\.name) == [
            "bn1.running_mean", "bn1.running_var",
            "layer1.bn1.running_mean", "layer1.bn1.running_var", "layer1.bn2.running_mean", "layer1.bn2.running_var",
            "layer2.bn1.running_mean", "layer2.bn1.running_var", "layer2.bn2.running_mean", "layer2.bn2.running_var",
            "layer2.shortcut.1.running_mean", "layer2.shortcut.1.running_var",
            "layer3.bn1.running_mean", "layer3.bn1.running_var", "layer3.bn2.running_mean", "layer3.bn2.running_var",
            "layer3.shortcut.1.running_mean", "layer3.shortcut.1.running_var",
        ])
        let shortcut = try #require(network.parameters.layout.entry(named: "layer2.shortcut.0.weight"))
        #expect(shortcut.shape == [32, 16, 1, 1])
        #expect(shortcut.role == .weight)
        #expect(shortcut.initialization == .pytorchDefault(fanIn: 16))
        #expect(network.parameters.layout.entry(named: "layer3.shortcut.0.weight")?.shape == [64, 32, 1, 1])
        #expect(network.parameters.layout.entry(named: "layer1.shortcut.0.weight") == nil)
        #expect(network.parameters.layout.entry(named: "fc.weight")?.shape == [10, 64])
    }

    @Test("a resnet20 names its blocks layer1.0 ... layer3.2 as an nn.Sequential of blocks does")
    func resnet20BlockNames() throws {
        let network = Network<Float>(try Architecture(name: "resnet20"))
        let names = network.parameters.layout.entries.map(\.name)
        let blocks = names.filter { $0.hasSuffix(".conv1.weight") }.map { String($0.dropLast(".conv1.weight".count)) }
        #expect(blocks == ["layer1.0", "layer1.1", "layer1.2", "layer2.0", "layer2.1", "layer2.2", "layer3.0", "layer3.1", "layer3.2"])
        // Only the first block of stages 2 and 3 changes shape, so only they have a projection.
        #expect(names.filter { $0.hasSuffix("shortcut.0.weight") } == ["layer2.0.shortcut.0.weight", "layer3.0.shortcut.0.weight"])
        #expect(!names.contains { $0.hasPrefix("layer1.conv1") || $0.hasPrefix("layer1.bn1") })
        #expect(network.parameters.layout.entry(named: "layer2.0.conv1.weight")?.shape == [32, 16, 3, 3])
        #expect(network.parameters.layout.entry(named: "layer2.1.conv1.weight")?.shape == [32, 32, 3, 3])
        #expect(network.parameters.layout.entry(named: "layer3.2.bn2.weight")?.shape == [64])
    }

    /// Parameter and running-statistic element counts of PyTorch's models (`sum(p.numel() for p in
    /// model.parameters())`), and the number of tensors in their `state_dict()`.
    @Test("parameter counts equal PyTorch's", arguments: [
        (Architecture.mlp, 269_322, 0, 6),
        (.cnn, 206_970, 96, 16),
        (.resnet8, 77_754, 672, 56),
        (Architecture(family: .resnet, depth: 20), 272_186, 1_568, 128),
        (resnet14x32, 696_042, 2_240, 92),
    ] as [(Architecture, Int, Int, Int)])
    func parameterCounts(_ architecture: Architecture, parameters: Int, state: Int, stateDictTensors: Int) {
        let network = Network<Float>(architecture)
        #expect(network.parameters.count == parameters)
        #expect(network.gradients.count == parameters)
        #expect(network.state.count == state)
        #expect(network.parameters.layout.entries.reduce(0) { $0 + $1.count } == parameters)
        #expect(network.stateDict().count == stateDictTensors)
        // Every batch-norm contributes one running mean, one running variance and one counter.
        let norms = network.state.layout.entries.filter { $0.role == .runningMean }.count
        #expect(network.stateDict().count == network.parameters.layout.entries.count + 3 * norms)
    }
}
