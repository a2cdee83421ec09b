import LandscapeCore

/// A fully connected layer `y = x W^T + b` (PyTorch's `nn.Linear`), weight `[out, in]`, bias `[out]`.
/// Input is a batch of vectors (`Flatten` makes one from images).
public final class Linear<T: Scalar> {
    public let inputs: Int, outputs: Int
    let weight: UnsafeMutablePointer<T>, weightGradient: UnsafeMutablePointer<T>
    let bias: UnsafeMutablePointer<T>, biasGradient: UnsafeMutablePointer<T>
    let computesInputGradient: Bool

    private let output = Buffer<T>(count: 0)
    private let inputGradient = Buffer<T>(count: 0)
    private var input: Tensor<T>?

    init(inputs: Int, outputs: Int, weightOffset: Int, biasOffset: Int,
         parameters: ParameterVector<T>, gradients: ParameterVector<T>, computesInputGradient: Bool) {
        self.inputs = inputs
        self.outputs = outputs
        weight = parameters.pointer + weightOffset
        weightGradient = gradients.pointer + weightOffset
        bias = parameters.pointer + biasOffset
        biasGradient = gradients.pointer + biasOffset
        self.computesInputGradient = computesInputGradient
    }

    public func outputShape(_ x: Shape) -> Shape {
        precondition(x.sampleSize == inputs && x.height == 1 && x.width == 1,
                     "Linear: expects [n, \(inputs)] vectors, got shape \(x)")
        return Shape(n: x.n, features: outputs)
    }

    func forward(_ x: Tensor<T>) -> Tensor<T> {
        let y = outputShape(x.shape)
        output.reserve(y.count)
        input = x
        for row in 0..<x.shape.n {
            (output.pointer + row * outputs).update(from: bias, count: outputs)
        }
        T.gemm(transposeA: false, transposeB: true, m: x.shape.n, n: outputs, k: inputs,
               alpha: 1, a: x.pointer, lda: inputs, b: weight, ldb: inputs, beta: 1, c: output.pointer, ldc: outputs)
        return Tensor(output.pointer, y)
    }

    func backward(_ dy: Tensor<T>) -> Tensor<T>? {
        guard let x = input else { preconditionFailure("Linear.backward called before forward") }
        precondition(dy.shape == outputShape(x.shape), "Linear.backward: output gradient \(dy.shape), expected \(outputShape(x.shape))")
        let n = x.shape.n
        T.gemm(transposeA: true, transposeB: false, m: outputs, n: inputs, k: n,
               alpha: 1, a: dy.pointer, lda: outputs, b: x.pointer, ldb: inputs, beta: 0, c: weightGradient, ldc: inputs)
        RowKernels.sumRows(dy.pointer, rows: n, columns: outputs, rowStride: outputs, into: biasGradient)
        guard computesInputGradient else { return nil }
        inputGradient.reserve(x.shape.count)
        T.gemm(transposeA: false, transposeB: false, m: n, n: inputs, k: outputs,
               alpha: 1, a: dy.pointer, lda: outputs, b: weight, ldb: inputs, beta: 0, c: inputGradient.pointer, ldc: inputs)
        return Tensor(inputGradient.pointer, x.shape)
    }
}
