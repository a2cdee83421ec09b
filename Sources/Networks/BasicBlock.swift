import LandscapeCore

/// The residual basic block of He et al. 2016 as in the reference ResNet8:
/// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, where the shortcut is the identity, or a
/// strided 1x1 convolution and batch-norm (the projection shortcut) when the stride or the width
/// changes. Backward adds the main path's input gradient onto the shortcut's as it folds it.
///
/// The first ReLU is bn1's (`BatchNorm2d.rectifies`); bn2 adds the shortcut and takes the last
/// ReLU in its own pass (in inference passes, conv2 does, having absorbed bn2).
public final class BasicBlock<T: Scalar> {
    let conv1: Conv2d<T>, bn1: BatchNorm2d<T>
    let conv2: Conv2d<T>, bn2: BatchNorm2d<T>
    let projection: (conv: Conv2d<T>, bn: BatchNorm2d<T>)?
    /// The gradient at the sum of the two paths.
    private let sumGradient = Buffer<T>(count: 0)
    /// The last training pass's output, `relu(main + shortcut)`, which bn2 wrote.
    private var output: Tensor<T>?

    init(conv1: Conv2d<T>, bn1: BatchNorm2d<T>, conv2: Conv2d<T>, bn2: BatchNorm2d<T>,
         projection: (conv: Conv2d<T>, bn: BatchNorm2d<T>)?) {
        self.conv1 = conv1
        self.bn1 = bn1
        self.conv2 = conv2
        self.bn2 = bn2
        self.projection = projection
        bn1.rectifies = true
        conv1.absorb(bn1)
        conv2.absorb(bn2)
        projection.map { $0.conv.absorb($0.bn) }
    }

    /// `inference`: an evaluation pass that no backward follows, in which conv2 applies bn2, adds
    /// the shortcut and takes the last ReLU while each chunk of its output is in cache.
    func forward(_ x: Tensor<T>, mode: Mode, inference: Bool) -> Tensor<T> {
        func normalized(_ conv: Conv2d<T>, _ bn: BatchNorm2d<T>, _ x: Tensor<T>) -> Tensor<T> {
            bn.forward(conv.forward(x, inference: inference), mode: mode, inference: inference)
        }
        let shortcut = projection.map { normalized($0.conv, $0.bn, x) } ?? x
        let hidden = normalized(conv1, bn1, x)
        if inference {
            output = nil  // no backward through a pass the convolutions did
            return conv2.forward(hidden, inference: true, residual: shortcut)
        }
        // bn2 adds the shortcut and takes the last ReLU in its pass.
        let y = bn2.forward(conv2.forward(hidden), mode: mode, residual: shortcut)
        output = y
        return y
    }

    func backward(_ dy: Tensor<T>) -> Tensor<T>? {
        guard let output else { preconditionFailure("BasicBlock.backward called before forward") }
        let y = output.shape
        precondition(dy.shape == y, "BasicBlock.backward: output gradient \(dy.shape), expected \(y)")
        sumGradient.reserve(y.count)
        RowKernels.rectifiedGradient(dy.pointer, output: output.pointer, into: sumGradient.pointer, count: y.count)
        let dSum = Tensor(sumGradient.pointer, y)
        let hidden = bn1.backward(conv2.backward(bn2.backward(dSum))!)
        // The shortcut's gradient, then conv1 adds its input gradient onto it in place: for the
        // identity that is dSum's buffer, which nothing reads after bn2.backward.
        let dShortcut = projection.map { $0.conv.backward($0.bn.backward(dSum)) } ?? dSum
        guard let dShortcut else { return nil }
        return conv1.backward(hidden, addingTo: dShortcut)
    }
}
