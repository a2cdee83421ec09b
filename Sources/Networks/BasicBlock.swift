import LandscapeCore

/// The residual basic block of He et al. 2016 as in the reference ResNet8:
/// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, where the shortcut is the identity, or a
/// strided 1x1 convolution and batch-norm (the projection shortcut) when the stride or the width
/// changes. Backward sums the gradients of the two paths at the input.
public final class BasicBlock<T: Scalar> {
    let conv1: Conv2d<T>, bn1: BatchNorm2d<T>, relu1 = ReLU<T>()
    let conv2: Conv2d<T>, bn2: BatchNorm2d<T>
    let projection: (conv: Conv2d<T>, bn: BatchNorm2d<T>)?
    let relu2 = ReLU<T>()
    private let sum = Buffer<T>(count: 0)
    private let inputGradient = Buffer<T>(count: 0)
    private var inputShape: Shape?

    init(conv1: Conv2d<T>, bn1: BatchNorm2d<T>, conv2: Conv2d<T>, bn2: BatchNorm2d<T>,
         projection: (conv: Conv2d<T>, bn: BatchNorm2d<T>)?) {
        self.conv1 = conv1
        self.bn1 = bn1
        self.conv2 = conv2
        self.bn2 = bn2
        self.projection = projection
        conv1.absorb(bn1)
        conv2.absorb(bn2)
        projection.map { $0.conv.absorb($0.bn) }
    }

    /// `inference`: an evaluation pass that no backward follows.
    func forward(_ x: Tensor<T>, mode: Mode, inference: Bool) -> Tensor<T> {
        inputShape = x.shape
        func normalized(_ conv: Conv2d<T>, _ bn: BatchNorm2d<T>, _ x: Tensor<T>) -> Tensor<T> {
            bn.forward(conv.forward(x, inference: inference), mode: mode, inference: inference)
        }
        let main = normalized(conv2, bn2, relu1.forward(normalized(conv1, bn1, x)))
        let shortcut = projection.map { normalized($0.conv, $0.bn, x) } ?? x
        precondition(main.shape == shortcut.shape, "BasicBlock: main path \(main.shape) and shortcut \(shortcut.shape) differ")
        sum.reserve(main.shape.count)
        let s = sum.pointer
        for i in 0..<main.shape.count { s[i] = main.pointer[i] + shortcut.pointer[i] }
        return relu2.forward(Tensor(s, main.shape))
    }

    func backward(_ dy: Tensor<T>) -> Tensor<T>? {
        guard let x = inputShape else { preconditionFailure("BasicBlock.backward called before forward") }
        let dSum = relu2.backward(dy)
        let dMain = conv1.backward(bn1.backward(relu1.backward(conv2.backward(bn2.backward(dSum))!)))
        let dShortcut = projection.map { $0.conv.backward($0.bn.backward(dSum)) } ?? dSum
        guard let dMain, let dShortcut else { return nil }
        inputGradient.reserve(x.count)
        let dx = inputGradient.pointer
        for i in 0..<x.count { dx[i] = dMain.pointer[i] + dShortcut.pointer[i] }
        return Tensor(dx, x)
    }
}
