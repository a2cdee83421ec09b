import LandscapeCore
import Testing

/// Float convolutions are computed directly (`Scalar.convolve`), and dense layers' products by the
/// product kernel (`Scalar.multiply`), exactly where the processor has AVX-512, so that on this kind
/// of machine the tests of convolutions and dense layers check the kernels.
struct KernelAvailabilityTests {
    @Test("Float convolves directly and multiplies by the kernel for multiples of 16 exactly when the CPU has AVX-512F; Double never")
    func availability() {
        let avx512 = BLASKernelTests.cpuFlags.contains("avx512f")
        for count in [16, 32, 48, 64, 784] {
            #expect(Float.convolvesDirectly(outputs: count) == avx512)
            #expect(Float.multipliesDirectly(columns: count) == avx512)
        }
        for count in [0, 8, 10, 24, 33, 40] {
            #expect(!Float.convolvesDirectly(outputs: count))
            #expect(!Float.multipliesDirectly(columns: count))
        }
        #expect(!Double.convolvesDirectly(outputs: 16) && !Double.multipliesDirectly(columns: 16))
    }
}
