import Foundation
import LandscapeCore

/// A model of the zoo and its arguments: enough to rebuild it with no other input. Its JSON form is
/// the `architecture` metadata of a checkpoint, e.g. `{"name":"cnn","channels":1,"classes":10,"side":28}`.
///
/// - `mlp`: flatten, 784-256-256-10 with ReLU (`hidden` sets the width).
/// - `cnn`: two conv3x3-BN-ReLU-maxpool stages (16, 32 channels), dense 128, dense `classes`.
/// - `resnet`: the CIFAR ResNet of He et al. 2016 with basic blocks: a 3x3 stem of `width`
///   channels, three stages of `(depth - 2) / 6` blocks with `width`, `2 width`, `4 width` channels
///   (strides 1, 2, 2), global average pooling, dense `classes`. Depth 8 and width 16 is the
///   reference `resnet8`, whose blocks are named `layer1`...`layer3`; deeper ones name their blocks
///   `layer1.0`, `layer1.1`, ... as a PyTorch `nn.Sequential` of blocks does.
public struct Architecture: Equatable, Hashable, Sendable, CustomStringConvertible {
    public enum Family: String, Sendable { case mlp, cnn, resnet }

    public var family: Family
    /// Input images are `side x side x channels`.
    public var channels: Int
    public var side: Int
    public var classes: Int
    /// Width of the mlp's hidden layers.
    public var hidden: Int
    /// The ResNet's depth (6k + 2) and the width of its first stage.
    public var depth: Int
    public var width: Int

    public static let mlp = Architecture(family: .mlp)
    public static let cnn = Architecture(family: .cnn)
    public static let resnet8 = Architecture(family: .resnet)

    public init(family: Family, channels: Int = 1, side: Int = 28, classes: Int = 10, hidden: Int = 256, depth: Int = 8, width: Int = 16) {
        self.family = family
        self.channels = channels
        self.side = side
        self.classes = classes
        self.hidden = hidden
        self.depth = depth
        self.width = width
    }

    /// A zoo model by name: `mlp`, `cnn`, `resnet8`, or `resnetD` for any depth `D = 6k + 2`
    /// (`resnet20`, `resnet32`, ...); `width` widens a ResNet.
    public init(name: String, channels: Int = 1, side: Int = 28, classes: Int = 10, width: Int? = nil) throws(ArchitectureError) {
        switch name {
        case "mlp": self.init(family: .mlp, channels: channels, side: side, classes: classes)
        case "cnn": self.init(family: .cnn, channels: channels, side: side, classes: classes)
        default:
            guard name.hasPrefix("resnet"), name.dropFirst("resnet".count).allSatisfy(\.isNumber), let depth = Int(name.dropFirst("resnet".count)) else {
                throw ArchitectureError("unknown model '\(name)'; expected mlp, cnn, resnet8 or resnetD with D = 6k + 2 (resnet20, resnet32, ...)")
            }
            self.init(family: .resnet, channels: channels, side: side, classes: classes, depth: depth, width: width ?? 16)
        }
        try validate()
    }

    /// Checks the arguments a user can get wrong.
    public func validate() throws(ArchitectureError) {
        guard channels > 0, classes > 1, hidden > 0, width > 0 else {
            throw ArchitectureError("model \(self): channels, hidden and width must be positive and classes at least 2")
        }
        switch family {
        case .mlp: guard side > 0 else { throw ArchitectureError("model \(self): side must be positive") }
        case .cnn: guard side >= 4 else { throw ArchitectureError("model \(self): the cnn pools twice by 2, so side must be at least 4") }
        case .resnet:
            guard depth >= 8, (depth - 2) % 6 == 0 else {
                throw ArchitectureError("model \(self): ResNet depth must be 6k + 2 with k >= 1 (8, 14, 20, 32, ...), got \(depth)")
            }
            guard side >= 4 else { throw ArchitectureError("model \(self): the ResNet strides twice by 2, so side must be at least 4") }
        }
    }

    /// The zoo name: `mlp`, `cnn`, `resnet8` for the reference ResNet, `resnetD` otherwise.
    public var name: String {
        switch family {
        case .mlp, .cnn: family.rawValue
        case .resnet: "resnet\(depth)"
        }
    }

    public var description: String { json }

    /// The compact JSON of the checkpoint metadata, keys in a fixed order.
    public var json: String {
        switch family {
        case .mlp:
            #"{"name":"mlp","inputs":\#(channels * side * side),"hidden":\#(hidden),"classes":\#(classes),"channels":\#(channels),"side":\#(side)}"#
        case .cnn:
            #"{"name":"cnn","channels":\#(channels),"classes":\#(classes),"side":\#(side)}"#
        case .resnet where depth == 8 && width == 16:
            #"{"name":"resnet8","channels":\#(channels),"classes":\#(classes),"side":\#(side)}"#
        case .resnet:
            #"{"name":"resnet","depth":\#(depth),"width":\#(width),"channels":\#(channels),"classes":\#(classes),"side":\#(side)}"#
        }
    }

    /// Reads the JSON form; `source` names where it came from in errors.
    public init(json: String, source: String) throws(ArchitectureError) {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let name = object["name"] as? String else {
            throw ArchitectureError("\(source): architecture is not a JSON object with a \"name\": \(json)")
        }
        func integer(_ key: String, default value: Int) throws(ArchitectureError) -> Int {
            guard let raw = object[key] else { return value }
            guard let number = JSONInteger.value(raw) else { throw ArchitectureError("\(source): architecture field \"\(key)\" is not an integer") }
            return number
        }
        let channels = try integer("channels", default: 1)
        let side = try integer("side", default: 28)
        let classes = try integer("classes", default: 10)
        switch name {
        case "mlp":
            let hidden = try integer("hidden", default: 256)
            self.init(family: .mlp, channels: channels, side: side, classes: classes, hidden: hidden)
            if let inputs = object["inputs"].flatMap(JSONInteger.value), inputs != channels * side * side {
                throw ArchitectureError("\(source): mlp inputs \(inputs) is not channels * side^2 = \(channels * side * side)")
            }
        case "cnn":
            self.init(family: .cnn, channels: channels, side: side, classes: classes)
        case "resnet":
            self.init(family: .resnet, channels: channels, side: side, classes: classes,
                      depth: try integer("depth", default: 8), width: try integer("width", default: 16))
        default:
            do {
                try self.init(name: name, channels: channels, side: side, classes: classes)
            } catch {
                throw ArchitectureError("\(source): \(error.description)")
            }
        }
        do {
            try validate()
        } catch {
            throw ArchitectureError("\(source): \(error.description)")
        }
    }

    /// The layers, in order.
    public var layers: [LayerSpec] {
        switch family {
        case .mlp:
            return [
                .flatten,
                .linear(name: "fc1", inputs: channels * side * side, outputs: hidden), .relu,
                .linear(name: "fc2", inputs: hidden, outputs: hidden), .relu,
                .linear(name: "fc3", inputs: hidden, outputs: classes),
            ]
        case .cnn:
            // Each ReLU is taken in its batch-norm's pass (`BatchNorm2d.rectifies`).
            return [
                .conv2d(name: "conv1", inputs: channels, outputs: 16, kernel: 3, stride: 1, padding: 1, bias: false),
                .batchNorm2d(name: "bn1", channels: 16), .relu, .maxPool2d(size: 2),
                .conv2d(name: "conv2", inputs: 16, outputs: 32, kernel: 3, stride: 1, padding: 1, bias: false),
                .batchNorm2d(name: "bn2", channels: 32), .relu, .maxPool2d(size: 2),
                .flatten,
                .linear(name: "fc1", inputs: 32 * (side / 4) * (side / 4), outputs: 128), .relu,
                .linear(name: "fc2", inputs: 128, outputs: classes),
            ]
        case .resnet:
            let blocks = (depth - 2) / 6
            var layers: [LayerSpec] = [
                .conv2d(name: "conv1", inputs: channels, outputs: width, kernel: 3, stride: 1, padding: 1, bias: false),
                .batchNorm2d(name: "bn1", channels: width), .relu,
            ]
            var inputs = width
            for stage in 0..<3 {
                let outputs = width << stage
                for block in 0..<blocks {
                    let name = blocks == 1 ? "layer\(stage + 1)" : "layer\(stage + 1).\(block)"
                    layers.append(.basicBlock(name: name, inputs: inputs, outputs: outputs, stride: block == 0 && stage > 0 ? 2 : 1))
                    inputs = outputs
                }
            }
            return layers + [.globalAveragePool, .linear(name: "fc", inputs: inputs, outputs: classes)]
        }
    }

    /// Multiply-adds of one forward pass per sample, times two: the FLOPs that GEMMs do.
    public var forwardFLOPs: Int {
        var flops = 0
        var side = self.side
        func conv(_ inputs: Int, _ outputs: Int, _ kernel: Int, _ stride: Int, _ padding: Int) {
            side = (side + 2 * padding - kernel) / stride + 1
            flops += 2 * side * side * outputs * inputs * kernel * kernel
        }
        for layer in layers {
            switch layer {
            case let .conv2d(_, inputs, outputs, kernel, stride, padding, _): conv(inputs, outputs, kernel, stride, padding)
            case let .linear(_, inputs, outputs): flops += 2 * inputs * outputs
            case let .maxPool2d(size): side /= size
            case let .basicBlock(_, inputs, outputs, stride):
                let before = side
                conv(inputs, outputs, 3, stride, 1)
                conv(outputs, outputs, 3, 1, 1)
                if stride != 1 || inputs != outputs {
                    let after = side
                    side = before
                    conv(inputs, outputs, 1, stride, 0)
                    side = after
                }
            case .batchNorm2d, .relu, .flatten, .globalAveragePool: break
            }
        }
        return flops
    }
}

/// A model name or architecture argument that is not in the zoo.
public struct ArchitectureError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
