import Foundation
import LandscapeCore
import Testing

/// OpenBLAS runs kernels for the CPU's instruction set, not its generic fallback.
struct BLASKernelTests {
    /// The CPU's instruction-set flags, from the first "flags" line of /proc/cpuinfo.
    static let cpuFlags: Set<Substring> = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " "))
    }()

    @Test("on a CPU with AVX2 and FMA, OpenBLAS runs other than its generic SSE3 (Prescott) kernels, unless told to",
          .enabled(if: cpuFlags.isSuperset(of: ["avx2", "fma"])))
    func notGeneric() {
        let requested = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]?.lowercased()
        #expect(BLASKernel.name != "Prescott" || requested == "prescott", "OpenBLAS kernels: \(BLASKernel.name)")
    }
}
