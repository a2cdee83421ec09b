// swift-tools-version: 6.1
import PackageDescription

// Release builds specialise the generic numeric code (written once for Float and Double) across
// module boundaries; without it, training would run through unspecialised generic witnesses.
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
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
            dependencies: ["CBLAS", "CBLASKernel", .product(name: "RealModule", package: "swift-numerics")],
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
