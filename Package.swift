// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// Whether the building machine's processor has the x86-64-v3 instructions (AVX2, FMA, BMI2, ...:
/// Intel since Haswell, 2013, AMD since Excavator, 2015), unless `LANDSCAPE_PORTABLE` is set.
func buildsForThisProcessor() -> Bool {
    #if arch(x86_64)
    guard ProcessInfo.processInfo.environment["LANDSCAPE_PORTABLE"] == nil,
          let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
    let present = Set(flags.split(separator: " ").map(String.init))
    return ["avx2", "fma", "bmi2", "movbe", "f16c"].allSatisfy(present.contains)
    #else
    return false
    #endif
}

// Release builds specialise the generic numeric code (written once for Float and Double) across
// module boundaries; without it, training would run through unspecialised generic witnesses. On a
// processor with AVX2 they also use its vector instructions, so the element-wise loops handle 8
// floats per instruction instead of SSE's 4 (a tenth or more of a cnn training step). Swift does
// not fuse a multiply and an add into one rounding on its own, so results are the same bits; the
// binary then runs only on such processors (`LANDSCAPE_PORTABLE=1` builds for any x86-64).
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"] + (buildsForThisProcessor() ? ["-target-cpu", "haswell"] : []),
                 .when(configuration: .release)),
]

let package = Package(
    name: "landscape",
    products: [
        .executable(name: "landscape", targets: ["landscape"]),
        .library(name: "Landscape", targets: ["LandscapeCore", "Networks", "Training", "Analysis", "Rendering"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        // MARK: - Public API
        .target(
            name: "LandscapeCore",
            dependencies: ["CBLAS", "CBLASKernel", "CKernels", .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: numericSettings),
        .target(
            name: "Networks",
            dependencies: ["LandscapeCore"],
            swiftSettings: numericSettings),
        .target(
            name: "Training",
            dependencies: ["Networks", "LandscapeCore", "CZlib"],
            swiftSettings: numericSettings),
        .target(
            name: "Analysis",
            dependencies: ["Training", "Networks", "LandscapeCore", "HDF5Shim"],
            swiftSettings: numericSettings),
        .target(
            name: "Rendering",
            dependencies: ["LandscapeCore", "CCairo", "CPNG", "CZlib"]),
        .target(
            name: "Benchmarking",
            dependencies: ["Analysis", "Training", "Networks", "LandscapeCore"],
            swiftSettings: numericSettings),
        .executableTarget(
            name: "landscape",
            dependencies: [
                "Benchmarking", "Rendering", "Analysis", "Training", "Networks", "LandscapeCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: numericSettings),

        // MARK: - System libraries
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        // Chooses OpenBLAS's kernels by instruction set where it fell back to generic ones.
        .target(name: "CBLASKernel", dependencies: ["CBLAS"]),
        // AVX-512 kernels (the direct convolution, batch-norm backward), chosen at run time.
        .target(name: "CKernels"),
        // HDF5's type and property-list identifiers are macros; the shim turns them into functions.
        .target(name: "HDF5Shim", dependencies: ["CHDF5"]),

        // MARK: - Unit test bundles
        .testTarget(
            name: "LandscapeCoreTests",
            dependencies: ["LandscapeCore", .product(name: "Numerics", package: "swift-numerics")]),
        .testTarget(
            name: "NetworksTests",
            dependencies: ["Networks", "LandscapeCore", "Training", .product(name: "Numerics", package: "swift-numerics")]),
        .testTarget(
            name: "TrainingTests",
            dependencies: ["Training", "Networks", "LandscapeCore"]),
        .testTarget(
            name: "RenderingTests",
            dependencies: ["Rendering"]),
        .testTarget(
            name: "AnalysisTests",
            dependencies: ["Analysis", "Rendering", "Training", "Networks", "LandscapeCore"]),
    ]
)
