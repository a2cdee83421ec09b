import LandscapeCore

/// What a network is made of, as a value: names are PyTorch's `state_dict` prefixes.
public indirect enum LayerSpec: Sendable, Equatable {
    case conv2d(name: String, inputs: Int, outputs: Int, kernel: Int, stride: Int, padding: Int, bias: Bool)
    case batchNorm2d(name: String, channels: Int)
    case relu
    case maxPool2d(size: Int)
    case flatten
    case globalAveragePool
    case linear(name: String, inputs: Int, outputs: Int)
    case basicBlock(name: String, inputs: Int, outputs: Int, stride: Int)

    /// Appends this layer's tensors to the parameter and state layouts, in PyTorch's order.
    func register(parameters: inout ParameterLayout, state: inout ParameterLayout) {
        switch self {
        case let .conv2d(name, inputs, outputs, kernel, _, _, bias):
            let fanIn = inputs * kernel * kernel
            parameters.append("\(name).weight", shape: [outputs, inputs, kernel, kernel], role: .weight, initialization: .pytorchDefault(fanIn: fanIn))
            if bias { parameters.append("\(name).bias", shape: [outputs], role: .bias, initialization: .pytorchDefault(fanIn: fanIn)) }
        case let .batchNorm2d(name, channels):
            parameters.append("\(name).weight", shape: [channels], role: .normScale, initialization: .constant(1))
            parameters.append("\(name).bias", shape: [channels], role: .normShift, initialization: .constant(0))
            state.append("\(name).running_mean", shape: [channels], role: .runningMean, initialization: .constant(0))
            state.append("\(name).running_var", shape: [channels], role: .runningVariance, initialization: .constant(1))
        case let .linear(name, inputs, outputs):
            parameters.append("\(name).weight", shape: [outputs, inputs], role: .weight, initialization: .pytorchDefault(fanIn: inputs))
            parameters.append("\(name).bias", shape: [outputs], role: .bias, initialization: .pytorchDefault(fanIn: inputs))
        case let .basicBlock(name, inputs, outputs, stride):
            for part in LayerSpec.blockParts(name: name, inputs: inputs, outputs: outputs, stride: stride) {
                part.register(parameters: &parameters, state: &state)
            }
        case .relu, .maxPool2d, .flatten, .globalAveragePool:
            break
        }
    }

    /// The layers of a basic block in registration order: conv1, bn1, conv2, bn2 and, when the
    /// shape changes, the projection `shortcut.0` (1x1 conv) and `shortcut.1` (batch-norm).
    static func blockParts(name: String, inputs: Int, outputs: Int, stride: Int) -> [LayerSpec] {
        var parts: [LayerSpec] = [
            .conv2d(name: "\(name).conv1", inputs: inputs, outputs: outputs, kernel: 3, stride: stride, padding: 1, bias: false),
            .batchNorm2d(name: "\(name).bn1", channels: outputs),
            .conv2d(name: "\(name).conv2", inputs: outputs, outputs: outputs, kernel: 3, stride: 1, padding: 1, bias: false),
            .batchNorm2d(name: "\(name).bn2", channels: outputs),
        ]
        if stride != 1 || inputs != outputs {
            parts += [
                .conv2d(name: "\(name).shortcut.0", inputs: inputs, outputs: outputs, kernel: 1, stride: stride, padding: 0, bias: false),
                .batchNorm2d(name: "\(name).shortcut.1", channels: outputs),
            ]
        }
        return parts
    }
}

/// A layer object with its buffers, bound to the network's vectors. An enum rather than a protocol
/// existential so that calls are direct and the generic code is specialised for `Float`.
enum Layer<T: Scalar> {
    case conv2d(Conv2d<T>)
    case batchNorm2d(BatchNorm2d<T>)
    case relu(ReLU<T>)
    case maxPool2d(MaxPool2d<T>)
    case flatten(Flatten<T>)
    case globalAveragePool(GlobalAveragePool<T>)
    case linear(Linear<T>)
    case basicBlock(BasicBlock<T>)

    /// Builds the layer for `spec`; `computesInputGradient` is false until a layer with parameters
    /// precedes it, since nothing reads the gradient of the data.
    init(_ spec: LayerSpec, parameters: ParameterVector<T>, gradients: ParameterVector<T>, state: ParameterVector<T>,
         workspace: ConvolutionWorkspace<T>, replica: Replica, computesInputGradient: Bool) {
        func offset(_ name: String, in vector: ParameterVector<T>) -> Int {
            guard let entry = vector.layout.entry(named: name) else { preconditionFailure("Layer: \(name) was not registered") }
            return entry.offset
        }
        switch spec {
        case let .conv2d(name, inputs, outputs, kernel, stride, padding, bias):
            self = .conv2d(Conv2d(
                inputs: inputs, outputs: outputs, kernel: kernel, stride: stride, padding: padding,
                weightOffset: offset("\(name).weight", in: parameters),
                biasOffset: bias ? offset("\(name).bias", in: parameters) : nil,
                parameters: parameters, gradients: gradients, computesInputGradient: computesInputGradient,
                workspace: workspace))
        case let .batchNorm2d(name, channels):
            self = .batchNorm2d(BatchNorm2d(
                channels: channels,
                scaleOffset: offset("\(name).weight", in: parameters), shiftOffset: offset("\(name).bias", in: parameters),
                meanOffset: offset("\(name).running_mean", in: state), varianceOffset: offset("\(name).running_var", in: state),
                parameters: parameters, gradients: gradients, state: state,
                replica: replica, sums: replica.group.sums(named: name, channels: channels)))
        case .relu:
            self = .relu(ReLU())
        case let .maxPool2d(size):
            self = .maxPool2d(MaxPool2d(size: size))
        case .flatten:
            self = .flatten(Flatten())
        case .globalAveragePool:
            self = .globalAveragePool(GlobalAveragePool())
        case let .linear(name, inputs, outputs):
            self = .linear(Linear(
                inputs: inputs, outputs: outputs,
                weightOffset: offset("\(name).weight", in: parameters), biasOffset: offset("\(name).bias", in: parameters),
                parameters: parameters, gradients: gradients, computesInputGradient: computesInputGradient))
        case let .basicBlock(name, inputs, outputs, stride):
            // Only the two convolutions that read the block's input (conv1 and the projection)
            // may skip their input gradient.
            let parts = LayerSpec.blockParts(name: name, inputs: inputs, outputs: outputs, stride: stride).enumerated().map { index, part in
                Layer(part, parameters: parameters, gradients: gradients, state: state, workspace: workspace, replica: replica,
                      computesInputGradient: index == 0 || index == 4 ? computesInputGradient : true)
            }
            guard case .conv2d(let conv1) = parts[0], case .batchNorm2d(let bn1) = parts[1],
                  case .conv2d(let conv2) = parts[2], case .batchNorm2d(let bn2) = parts[3] else {
                preconditionFailure("Layer: basic block \(name) parts out of order")
            }
            var projection: (conv: Conv2d<T>, bn: BatchNorm2d<T>)?
            if parts.count == 6, case .conv2d(let conv) = parts[4], case .batchNorm2d(let bn) = parts[5] {
                projection = (conv, bn)
            }
            self = .basicBlock(BasicBlock(conv1: conv1, bn1: bn1, conv2: conv2, bn2: bn2, projection: projection))
        }
    }

    /// `inference`: an evaluation pass that no backward follows, in which a convolution applies
    /// the batch-norm after it (`Conv2d.absorb`).
    func forward(_ x: Tensor<T>, mode: Mode, inference: Bool) -> Tensor<T> {
        switch self {
        case .conv2d(let layer): layer.forward(x, inference: inference)
        case .batchNorm2d(let layer): layer.forward(x, mode: mode, inference: inference)
        case .relu(let layer): layer.forward(x)
        case .maxPool2d(let layer): layer.forward(x, inference: inference)
        case .flatten(let layer): layer.forward(x)
        case .globalAveragePool(let layer): layer.forward(x)
        case .linear(let layer): layer.forward(x)
        case .basicBlock(let layer): layer.forward(x, mode: mode, inference: inference)
        }
    }

    /// The input gradient, or nil where the layer does not compute one (the first layer).
    func backward(_ dy: Tensor<T>) -> Tensor<T>? {
        switch self {
        case .conv2d(let layer): layer.backward(dy)
        case .batchNorm2d(let layer): layer.backward(dy)
        case .relu(let layer): layer.backward(dy)
        case .maxPool2d(let layer): layer.backward(dy)
        case .flatten(let layer): layer.backward(dy)
        case .globalAveragePool(let layer): layer.backward(dy)
        case .linear(let layer): layer.backward(dy)
        case .basicBlock(let layer): layer.backward(dy)
        }
    }
}

extension LayerSpec {
    /// Whether the layer has trainable tensors.
    var hasParameters: Bool {
        switch self {
        case .conv2d, .batchNorm2d, .linear, .basicBlock: true
        case .relu, .maxPool2d, .flatten, .globalAveragePool: false
        }
    }

    /// Whether the layer is or contains a convolution.
    var isConvolutional: Bool {
        switch self {
        case .conv2d, .basicBlock: true
        case .batchNorm2d, .linear, .relu, .maxPool2d, .flatten, .globalAveragePool: false
        }
    }
}
