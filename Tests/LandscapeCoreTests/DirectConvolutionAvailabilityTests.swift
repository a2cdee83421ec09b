import LandscapeCore
import Testing

/// Float convolutions are computed directly (`Scalar.convolve`) exactly where the processor has
/// AVX-512, so that on this kind of machine the tests of convolutions check the direct kernels.
struct DirectConvolutionAvailabilityTests {
    @Test("Float convolves directly for multiples of 16 outputs exactly when the CPU has AVX-512F; Double never")
    func availability() {
        let avx512 = BLASKernelTests.cpuFlags.contains("avx512f")
        for outputs in [16, 32, 48, 64] { #expect(Float.convolvesDirectly(outputs: outputs) == avx512) }
        for outputs in [0, 8, 24, 40] { #expect(!Float.convolvesDirectly(outputs: outputs)) }
        #expect(!Double.convolvesDirectly(outputs: 16))
    }
}
