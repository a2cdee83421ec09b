import LandscapeCore
import Networks
import Testing

/// Max pooling's choices where finite differences cannot look: ties, NaN and leftover rows.
struct MaxPoolTests {
    /// Forward and backward (output gradient 1, 2, 3, ...) of `size x size` pooling over one image
    /// of `height x width` pixels and `channels` channels, channels-last.
    static func pool(_ pixels: [Double], height: Int, width: Int, channels: Int, size: Int = 2) -> (output: [Double], inputGradient: [Double]) {
        let shape = Shape(n: 1, height: height, width: width, channels: channels)
        let network = Network<Double>(layers: [.maxPool2d(size: size)], inputShape: shape, computesInputGradient: true)
        var input = pixels
        return input.withUnsafeMutableBufferPointer { x in
            let y = network.forward(Tensor(x.baseAddress!, shape), mode: .evaluation)
            let output = Array(y.elements)
            var dy = (1...output.count).map(Double.init)
            let dx = dy.withUnsafeMutableBufferPointer { network.backward(Tensor($0.baseAddress!, y.shape))! }
            return (output, Array(dx.elements))
        }
    }

    @Test("a tie goes to the first input in scan order, and a leftover column gets no gradient")
    func ties() {
        // 2 x 3 pixels, one channel: the window is the first two columns, the third is left over.
        let (output, gradient) = Self.pool([5, 5, 9,
                                            5, 1, 9], height: 2, width: 3, channels: 1)
        #expect(output == [5])
        #expect(gradient == [1, 0, 0,
                             0, 0, 0])
    }

    @Test("3x3 windows: a tie goes to the first in scan order, NaN wins and takes the gradient at its first place")
    func largerWindows() {
        // Two channels, interleaved: channel 0 ties at 8 in the window's second and fourth places;
        // channel 1 has NaN in the second row, after a larger value and before another NaN.
        let nan = Double.nan
        let (output, gradient) = Self.pool([1, 9, 8, 0, 2, 0,
                                            8, nan, 3, 0, 5, nan,
                                            0, 0, 7, 1, 2, 0], height: 3, width: 3, channels: 2, size: 3)
        #expect(output[0] == 8 && output[1].isNaN)
        #expect(gradient == [0, 0, 1, 0, 0, 0,
                             0, 2, 0, 0, 0, 0,
                             0, 0, 0, 0, 0, 0])
    }

    @Test("NaN wins the window, stays against larger values, and takes the gradient at its first place")
    func notANumber() {
        // Two channels, interleaved: channel 0 has a NaN second in scan order and 7 after it;
        // channel 1 is finite with its maximum last.
        let nan = Double.nan
        let (output, gradient) = Self.pool([1, 0, nan, 2,
                                            7, 3, nan, 4], height: 2, width: 2, channels: 2)
        #expect(output[0].isNaN && output[1] == 4)
        #expect(gradient == [0, 0, 1, 0,
                             0, 0, 0, 2])
    }
}
