import LandscapeCore
import Networks
import Testing

/// A convolution unrolls its input and multiplies the columns a chunk of rows at a time (about 2^17
/// values). These batches are large enough for several chunks, with boundaries inside images, and
/// the output and gradients are checked against a direct convolution.
struct ConvolutionChunkTests {
    /// A convolution, its input shape and batch, and whether it is a network's first layer (no
    /// input gradient; its columns are kept for backward, transposed when they fit).
    struct Case: Sendable, CustomTestStringConvertible {
        let inputs: Int, outputs: Int, kernel: Int, stride: Int, padding: Int
        let side: Int, batch: Int
        let first: Bool
        var testDescription: String {
            "\(inputs)->\(outputs) k\(kernel) s\(stride) p\(padding), \(batch) x \(side)^2\(first ? ", first layer" : "")"
        }
    }

    static let cases = [
        // Transposed columns: 20 images of 784 rows, chunks of 14,560 rows (18.6 images).
        Case(inputs: 1, outputs: 4, kernel: 3, stride: 1, padding: 1, side: 28, batch: 20, first: true),
        // Kept columns, plain layout: 40 images of 196 rows, chunks of 7,280 rows.
        Case(inputs: 2, outputs: 3, kernel: 3, stride: 2, padding: 1, side: 28, batch: 40, first: true),
        // Unrolled again in backward and folded: 8 images of 196 rows, chunks of 910 rows.
        Case(inputs: 16, outputs: 8, kernel: 3, stride: 1, padding: 1, side: 14, batch: 8, first: false),
    ]

    @Test("output, weight gradient and input gradient across chunk boundaries", arguments: cases)
    func chunks(_ c: Case) {
        let input = Shape(n: c.batch, height: c.side, width: c.side, channels: c.inputs)
        let network = Network<Double>(layers: [.conv2d(name: "c", inputs: c.inputs, outputs: c.outputs, kernel: c.kernel,
                                                       stride: c.stride, padding: c.padding, bias: false)],
                                      inputShape: input, computesInputGradient: !c.first)
        network.initialize(seed: 11)
        let weight = network.parameters["c.weight"]
        var generator = RandomGenerator(seed: 12)
        let x = Buffer<Double>(count: input.count)
        for i in 0..<input.count { x.pointer[i] = generator.normal() }

        let y = network.forward(Tensor(x, input), mode: .train)
        let out = y.shape
        let dy = Buffer<Double>(count: out.count)
        for i in 0..<out.count { dy.pointer[i] = generator.normal() }
        let expected = Self.direct(c, x: x.pointer, input: input, output: out, weight: weight.baseAddress!, dy: dy.pointer)
        let output = Array(y.elements)
        let dx = network.backward(Tensor(dy, out)).map { Array($0.elements) }
        let dw = Array(network.gradients["c.weight"])

        #expect(Self.error(output, expected.output) < 1e-13)
        #expect(Self.error(dw, expected.weightGradient) < 1e-13)
        if let dx { #expect(Self.error(dx, expected.inputGradient) < 1e-13) } else { #expect(c.first) }
    }

    /// Largest absolute difference over the largest magnitude.
    static func error(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count)
        let scale = b.map(abs).max() ?? 0
        return zip(a, b).map { abs($0 - $1) }.max()! / max(scale, .leastNormalMagnitude)
    }

    /// The convolution by its definition: output, and the gradients for output gradient `dy`.
    static func direct(_ c: Case, x: UnsafePointer<Double>, input: Shape, output: Shape, weight: UnsafePointer<Double>,
                       dy: UnsafePointer<Double>) -> (output: [Double], weightGradient: [Double], inputGradient: [Double]) {
        var y = [Double](repeating: 0, count: output.count)
        var dw = [Double](repeating: 0, count: c.outputs * c.inputs * c.kernel * c.kernel)
        var dx = [Double](repeating: 0, count: input.count)
        for n in 0..<output.n {
            for oy in 0..<output.height {
                for ox in 0..<output.width {
                    let pixel = ((n * output.height + oy) * output.width + ox) * c.outputs
                    for ky in 0..<c.kernel {
                        for kx in 0..<c.kernel {
                            let (iy, ix) = (oy * c.stride - c.padding + ky, ox * c.stride - c.padding + kx)
                            guard iy >= 0 && iy < input.height && ix >= 0 && ix < input.width else { continue }
                            let source = ((n * input.height + iy) * input.width + ix) * c.inputs
                            for o in 0..<c.outputs {
                                for i in 0..<c.inputs {
                                    let w = ((o * c.inputs + i) * c.kernel + ky) * c.kernel + kx
                                    y[pixel + o] += weight[w] * x[source + i]
                                    dw[w] += dy[pixel + o] * x[source + i]
                                    dx[source + i] += dy[pixel + o] * weight[w]
                                }
                            }
                        }
                    }
                }
            }
        }
        return (y, dw, dx)
    }
}
