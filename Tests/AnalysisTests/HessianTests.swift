import Analysis
import Foundation
import LandscapeCore
import Networks
import Testing
import Training

/// Hessian spectra on matrices with known spectra, on a tiny network whose full Hessian is built
/// column by column, and Hessian-vector products of the zoo models against finite differences.
struct HessianTests {
    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }
    static func relativeError(_ x: Double, _ y: Double) -> Double { abs(x - y) / max(abs(y), 1e-300) }

    /// A spectrum whose largest-magnitude eigenvalues are negative.
    static let spectrum: [Double] = [-9, -7.5, 4, 3.5, 3, 2.2, 2, 1.5, 1, 0.8, 0.5, 0.3, 0.1, 0, 0, -0.2, -0.4, -1, -1.5, -2, -2.5, -3, -4, -5, -6]

    @Test("Lanczos gives the largest algebraic eigenvalues of dense matrices, not the largest in magnitude", arguments: [1, 3, 5])
    func topEigenvalues(k: Int) {
        let (a, q) = KnownSpectrum.matrix(eigenvalues: Self.spectrum, seed: 11)
        let objective = QuadraticObjective(matrix: a, centre: KnownSpectrum.vector(Self.spectrum.count, seed: 12))
        let point = KnownSpectrum.vector(Self.spectrum.count, seed: 13)
        let result = Hessian.topEigenvalues(of: objective, at: point,
                                            settings: HessianEigenvalueSettings(count: k, tolerance: 1e-10, computesEigenvectors: true, seed: 3))
        let expected = Array(Self.spectrum.sorted(by: >).prefix(k))
        #expect(result.eigenvalues.count == k)
        for (value, exact) in zip(result.eigenvalues, expected) {
            #expect(abs(value - exact) < 1e-6 * abs(exact), "\(result.eigenvalues) vs \(expected)")
        }
        #expect(result.converged && result.iterations <= Self.spectrum.count)
        // Ritz vectors: unit, with small residuals, along the known eigenvectors.
        for (index, y) in result.eigenvectors!.enumerated() {
            let ay = objective.times(y)
            #expect(abs(Self.norm(y) - 1) < 1e-10)
            #expect(Self.norm(zip(ay, y).map { $0 - result.eigenvalues[index] * $1 }) < 1e-5)
            let column = Self.spectrum.firstIndex(of: expected[index])!
            #expect(abs(Self.dot(y, q.map { $0[column] })) > 1 - 1e-8)
        }
        #expect(objective.lastPoint == point)
    }

    @Test("Lanczos finds repeated eigenvalues (restarts after the Krylov space closes) and exact values when it spans the space")
    func repeatedEigenvalues() {
        let objective = QuadraticObjective(diagonal: [5, 1, 5, 3, -7, 1, 0, 5], centre: [Double](repeating: 0, count: 8))
        let result = Hessian.topEigenvalues(of: objective, at: [Double](repeating: 1, count: 8),
                                            settings: HessianEigenvalueSettings(count: 5, tolerance: 1e-12))
        #expect(zip(result.eigenvalues, [5, 5, 5, 3, 1]).allSatisfy { abs($0 - $1) < 1e-10 }, "\(result.eigenvalues)")
        #expect(result.converged && result.iterations <= 8)
    }

    @Test("the Ritz-value-change rule stops too, and the results round-trip through JSON")
    func ritzValueChange() throws {
        let (a, _) = KnownSpectrum.matrix(eigenvalues: Self.spectrum, seed: 14)
        let objective = QuadraticObjective(matrix: a, centre: [Double](repeating: 0, count: Self.spectrum.count))
        let point = [Double](repeating: 0, count: Self.spectrum.count)
        let result = Hessian.topEigenvalues(of: objective, at: point, settings: HessianEigenvalueSettings(count: 2, tolerance: 1e-9, convergence: .ritzValueChange))
        #expect(abs(result.eigenvalues[0] - 4) < 1e-6 && abs(result.eigenvalues[1] - 3.5) < 1e-6)
        #expect(result.relativeChanges!.allSatisfy { $0 <= 1e-9 })
        #expect(try JSONDecoder().decode(HessianEigenvalues.self, from: JSONEncoder().encode(result)) == result)
    }

    @Test("Hutchinson's trace is exact for a diagonal matrix and within 3 standard errors for a dense one")
    func trace() throws {
        let diagonal = QuadraticObjective(diagonal: [3, -1, 0.5, 2, 7, -4], centre: [Double](repeating: 0, count: 6))
        let exact = Hessian.trace(of: diagonal, at: [Double](repeating: 0, count: 6))
        #expect(exact.samples.allSatisfy { $0 == diagonal.trace }, "Rademacher probes give the trace of a diagonal matrix in one sample")
        #expect(exact.standardError == 0 && exact.converged && exact.samples.count == 10)

        let (a, _) = KnownSpectrum.matrix(eigenvalues: Self.spectrum.map { $0 + 2 }, seed: 15)
        let dense = QuadraticObjective(matrix: a, centre: [Double](repeating: 0, count: Self.spectrum.count))
        let estimate = Hessian.trace(of: dense, at: dense.centre, settings: HessianTraceSettings(maxSamples: 400, relativeTolerance: 0.1, seed: 8))
        #expect(abs(estimate.trace - dense.trace) < 3 * estimate.standardError, "\(estimate.trace) +- \(estimate.standardError), exact \(dense.trace)")
        #expect(estimate.converged && estimate.standardError <= 0.1 * abs(estimate.trace))
        #expect(try JSONDecoder().decode(HessianTrace.self, from: JSONEncoder().encode(estimate)) == estimate)
    }

    @Test("the SLQ density integrates to 1 and its mean is trace / n; with m = n its nodes are the eigenvalues")
    func density() throws {
        let n = Self.spectrum.count
        let (a, _) = KnownSpectrum.matrix(eigenvalues: Self.spectrum, seed: 16)
        let objective = QuadraticObjective(matrix: a, centre: [Double](repeating: 0, count: n))
        let runs = 8
        let result = Hessian.density(of: objective, at: objective.centre, settings: SpectralDensitySettings(runs: runs, iterations: 12, seed: 2))
        #expect(abs(result.integral - 1) < 1e-6, "integral \(result.integral)")
        #expect(abs(result.densityMean - result.mean) < 1e-6 * (1 + abs(result.mean)))
        #expect(result.weights.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-12 })
        #expect(result.hessianVectorProducts == runs * 12 && result.nodes.allSatisfy { $0.count == 12 })
        // The mean of a run is v^T A v / n for its Rademacher v: Hutchinson's variance
        // 2 (||A||_F^2 - sum A_ii^2) / n^2 per run.
        let frobenius = a.joined().reduce(0) { $0 + $1 * $1 }
        let diagonalSquares = (0..<n).reduce(0) { $0 + a[$1][$1] * a[$1][$1] }
        let standardError = (2 * (frobenius - diagonalSquares) / Double(runs)).squareRoot() / Double(n)
        #expect(abs(result.mean - objective.trace / Double(n)) < 3 * standardError, "mean \(result.mean), trace / n \(objective.trace / Double(n)) +- \(standardError)")

        // A diagonal matrix: every run's mean is exactly trace / n.
        let diagonal = QuadraticObjective(diagonal: [3, -1, 0.5, 2, 7, -4, 1], centre: [Double](repeating: 0, count: 7))
        let exact = Hessian.density(of: diagonal, at: diagonal.centre, settings: SpectralDensitySettings(runs: 3, seed: 4))
        #expect(abs(exact.mean - diagonal.trace / 7) < 1e-12)
        #expect(abs(exact.integral - 1) < 1e-6)

        // m = n steps: the nodes are the eigenvalues, each with weight (v^T u_i)^2 / n.
        let full = Hessian.density(of: objective, at: objective.centre, settings: SpectralDensitySettings(iterations: n, seed: 5))
        let distinct = Array(Set(Self.spectrum)).sorted(by: >)
        let nodes = full.nodes[0].enumerated().filter { full.weights[0][$0.offset] > 1e-12 }.map(\.element)
        #expect(nodes.count == distinct.count)
        #expect(zip(nodes, distinct).allSatisfy { abs($0 - $1) < 1e-8 }, "\(nodes)")
        #expect(try JSONDecoder().decode(SpectralDensity.self, from: JSONEncoder().encode(full)) == full)
    }

    @Test("per-block eigenvalues and traces are those of the diagonal blocks")
    func blocks() {
        let n = 10
        let (a, _) = KnownSpectrum.matrix(eigenvalues: (0..<n).map { Double($0) - 3 }, seed: 17)
        let objective = QuadraticObjective(matrix: a, centre: [Double](repeating: 0, count: n), blocks: [("first", 0..<4), ("second", 4..<10)])
        let result = Hessian.blockSpectra(of: objective, at: objective.centre,
                                          eigenvalues: HessianEigenvalueSettings(count: 2, tolerance: 1e-12),
                                          trace: HessianTraceSettings(maxSamples: 2000, relativeTolerance: 0))
        #expect(result.blocks.map(\.name) == ["first", "second"])
        for block in result.blocks {
            let range = block.offset..<(block.offset + block.count)
            let sub = range.map { i in range.map { a[i][$0] } }
            let exact = SymmetricEigendecomposition(symmetric: sub).eigenvalues
            #expect(abs(block.eigenvalues.eigenvalues[0] - exact[0]) < 1e-8 && abs(block.eigenvalues.eigenvalues[1] - exact[1]) < 1e-8)
            let trace = range.reduce(0) { $0 + a[$1][$1] }
            #expect(abs(block.trace.trace - trace) < 3 * block.trace.standardError, "\(block.name): \(block.trace.trace) +- \(block.trace.standardError) vs \(trace)")
            #expect(block.eigenvalues.settings.block == block.name && block.trace.settings.block == block.name)
        }
        #expect(result.hessianVectorProducts == result.blocks.reduce(0) { $0 + $1.eigenvalues.iterations } + 4000)
    }

    @Test("the Jacobi and tridiagonal QL eigensolvers reproduce known spectra")
    func eigensolvers() {
        let (a, _) = KnownSpectrum.matrix(eigenvalues: Self.spectrum, seed: 18)
        let jacobi = SymmetricEigendecomposition(symmetric: a)
        #expect(zip(jacobi.eigenvalues, Self.spectrum.sorted(by: >)).allSatisfy { abs($0 - $1) < 1e-12 })
        for (value, vector) in zip(jacobi.eigenvalues, jacobi.eigenvectors) {
            let av = a.map { Self.dot($0, vector) }
            #expect(Self.norm(zip(av, vector).map { $0 - value * $1 }) < 1e-12)
        }
        // The tridiagonal matrix 2, -1 (the 1-D Laplacian) has eigenvalues 2 - 2 cos(k pi / (m + 1)).
        let m = 30
        let tridiagonal = SymmetricEigendecomposition(tridiagonal: [Double](repeating: 2, count: m), offDiagonal: [Double](repeating: -1, count: m - 1))
        let exact = (1...m).map { 2 - 2 * cos(Double($0) * Double.pi / Double(m + 1)) }.sorted(by: >)
        #expect(zip(tridiagonal.eigenvalues, exact).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(abs(Self.norm(tridiagonal.eigenvectors[0]) - 1) < 1e-12)
    }

    // MARK: - Networks

    /// The full Hessian of `objective` at its origin, column `i` the central difference
    /// `(g(w + h e_i) - g(w - h e_i)) / 2h` of the exact (backpropagated) gradient, symmetrized.
    static func fullHessian(_ objective: NetworkObjective, h: Double) -> [[Double]] {
        let w = objective.origin
        let n = w.count
        var columns: [[Double]] = []
        for i in 0..<n {
            var plus = w, minus = w
            plus[i] += h
            minus[i] -= h
            let (gPlus, gMinus) = (objective.gradient(at: plus).gradient, objective.gradient(at: minus).gradient)
            columns.append(zip(gPlus, gMinus).map { ($0 - $1) / (2 * h) })
        }
        objective.restore()
        return (0..<n).map { i in (0..<n).map { j in (columns[j][i] + columns[i][j]) / 2 } }
    }

    @Test("on a tiny network, Lanczos and Hutchinson agree with the Hessian built column by column")
    func tinyNetwork() {
        let objective = SharpnessTests.tinyNetworkObjective(samples: 24, seed: 5)
        let n = objective.dimension
        #expect(n == 31)
        let hessian = Self.fullHessian(objective, h: 1e-3)
        let exact = SymmetricEigendecomposition(symmetric: hessian).eigenvalues
        let lanczos = Hessian.topEigenvalues(of: objective, at: objective.origin, settings: HessianEigenvalueSettings(count: 3, tolerance: 1e-6))
        for (value, reference) in zip(lanczos.eigenvalues, exact.prefix(3)) {
            #expect(Self.relativeError(value, reference) < 1e-2, "Lanczos \(lanczos.eigenvalues), full Hessian \(Array(exact.prefix(4)))")
        }
        let trace = (0..<n).reduce(0) { $0 + hessian[$1][$1] }
        let hutchinson = Hessian.trace(of: objective, at: objective.origin, settings: HessianTraceSettings(maxSamples: 400, relativeTolerance: 0))
        #expect(abs(hutchinson.trace - trace) < 3 * hutchinson.standardError, "Hutchinson \(hutchinson.trace) +- \(hutchinson.standardError), trace \(trace)")
        #expect(Array(objective.network.parameters.elements).map(Double.init) == objective.origin)
        print("tiny network: top-3 Lanczos \(lanczos.eigenvalues) (\(lanczos.iterations) products), full Hessian \(Array(exact.prefix(3))); "
              + "trace \(trace), Hutchinson \(hutchinson.trace) +- \(hutchinson.standardError)")
    }

    /// The tiny network on 12 samples, with a ReLU unit whose pre-activation on sample 0 is exactly
    /// 0 when `offset` is 0 (inputs, weights and bias are dyadic, so the sum is exact in Float and
    /// Double): a kink at the weights themselves. A negative `offset` moves the unit off it.
    static func kinkedObjective(offset: Float) -> NetworkObjective {
        let tiny = SharpnessTests.tinyNetworkObjective(samples: 12, seed: 3)
        let network = tiny.network
        var images = tiny.data.images
        images.replaceSubrange(0..<3, with: [0.5, 0.25, 1])
        let data = Dataset(name: "kinked", images: images, labels: tiny.data.labels, height: 1, width: 1, channels: 3, classes: 3)
        let (weight, bias) = (network.parameters.layout.entry(named: "fc1.weight")!, network.parameters.layout.entry(named: "fc1.bias")!)
        let w = network.parameters.pointer
        (w + weight.offset).update(from: [1, 2, 0.5], count: 3)
        w[bias.offset] = -1.5 + offset
        return NetworkObjective(network: network, data: data)
    }

    @Test("a ReLU kink at the weights: the product is the Hessian of the piece the weights lie in, not a jump over 2h")
    func kinkAtTheWeights() {
        let kinked = Self.kinkedObjective(offset: 0)
        let clear = Self.kinkedObjective(offset: -1e-3)
        var generator = RandomGenerator(seed: 8)
        let v = (0..<kinked.dimension).map { _ in generator.normal() }
        let product = kinked.hessianVectorProduct(at: kinked.origin, v)
        let reference = clear.hessianVectorProduct(at: clear.origin, v)
        let difference = zip(product, reference).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let size = reference.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(size > 0 && difference < 1e-2 * size, "product off the reference by \(difference / size) relative")
        #expect(kinked.unsettledProducts == 0 && clear.unsettledProducts == 0)
    }

    static func architecture(_ model: String) -> Architecture {
        switch model {
        case "mlp": return Architecture(family: .mlp, side: 6, hidden: 16)
        case "cnn": return Architecture(family: .cnn, side: 8)
        default: return Architecture(family: .resnet, side: 8)
        }
    }

    /// A zoo model at its seeded initialisation on 16 random normal images, as an objective.
    static func zooObjective(_ model: String) -> NetworkObjective {
        let architecture = Self.architecture(model)
        let network = Network<Float>(architecture)
        network.initialize(seed: 1)
        let data = SyntheticData.randomImages(count: 16, side: architecture.side, channels: 1, classes: 10, seed: 2)
        return NetworkObjective(network: network, data: data)
    }

    /// A random unit vector supported on `range` (the whole vector of `count` by default).
    static func unitVector(_ count: Int, in range: Range<Int>? = nil, seed: UInt64) -> [Double] {
        var v = KnownSpectrum.vector(count, seed: seed)
        if let range { for i in v.indices where !range.contains(i) { v[i] = 0 } }
        let length = norm(v)
        return v.map { $0 / length }
    }

    @Test("zoo models, directions in the classifier layer: v^T H v matches the float32 second difference of the loss, and u^T H v = v^T H u",
          arguments: ["mlp", "cnn", "resnet8"])
    func zooHessianVectorProducts(model: String) {
        let objective = Self.zooObjective(model)
        let w = objective.origin
        // The last linear layer's weight and bias: nothing after it has a kink (ReLU, max-pool), so
        // the loss is smooth along these directions and a large step is exact to O(h^2).
        let entries = objective.network.parameters.layout.entries.suffix(2)
        let classifier = entries.first!.offset..<entries.last!.range.upperBound
        let (u, v) = (Self.unitVector(w.count, in: classifier, seed: 3), Self.unitVector(w.count, in: classifier, seed: 4))
        let hv = objective.hessianVectorProduct(at: w, v)
        let hu = objective.hessianVectorProduct(at: w, u)
        let h = 0.3
        let loss = objective.value(at: w)
        let secondDifference = (objective.value(at: zip(w, v).map { $0 + h * $1 }) - 2 * loss + objective.value(at: zip(w, v).map { $0 - h * $1 })) / (h * h)
        let (vHv, uHv, vHu) = (Self.dot(v, hv), Self.dot(u, hv), Self.dot(v, hu))
        print("\(model): v^T H v \(vHv), second difference \(secondDifference) (relative error \(Self.relativeError(vHv, secondDifference))); "
              + "u^T H v \(uHv), v^T H u \(vHu) (relative difference \(abs(uHv - vHu) / max(abs(uHv), abs(vHu))))")
        #expect(Self.relativeError(vHv, secondDifference) < 1e-2)
        #expect(abs(uHv - vHu) < 1e-2 * max(abs(uHv), abs(vHu)))
    }

    /// The loss gradient of a Double copy of a float32 network (same parameters and running
    /// statistics) over a data set in one batch: the same function up to float32 rounding.
    final class DoubleTwin {
        let network: Network<Double>
        let input: Buffer<Double>
        let shape: Shape
        let labels: [Int32]

        init(_ objective: NetworkObjective) {
            network = Network<Double>(objective.network.architecture!)
            for i in 0..<objective.network.state.count { network.state.pointer[i] = Double(objective.network.state.pointer[i]) }
            let data = objective.data
            input = Buffer(count: data.images.count)
            for i in data.images.indices { input.pointer[i] = Double(data.images[i]) }
            shape = network.inputShape.with(n: data.count)
            labels = data.labels
        }

        func gradient(at point: [Double]) -> [Double] {
            for i in point.indices { network.parameters.pointer[i] = point[i] }
            labels.withUnsafeBufferPointer { _ = network.lossAndGradient(Tensor(input, shape), labels: $0.baseAddress!, mode: .evaluation) }
            return Array(network.gradients.elements)
        }

        /// `(g(w + h v) - g(w - h v)) / 2h` in Double with a step far below the distance to the
        /// nearest ReLU or max-pool kink.
        func hessianVectorProduct(at point: [Double], _ v: [Double], h: Double = 1e-6) -> [Double] {
            zip(gradient(at: zip(point, v).map { $0 + h * $1 }), gradient(at: zip(point, v).map { $0 - h * $1 })).map { ($0 - $1) / (2 * h) }
        }
    }

    @Test("zoo models, random directions over all parameters: the Hessian-vector product against a Double reference",
          arguments: ["mlp", "cnn", "resnet8"])
    func zooRandomDirections(model: String) {
        let objective = Self.zooObjective(model)
        let w = objective.origin
        let (u, v) = (Self.unitVector(w.count, seed: 3), Self.unitVector(w.count, seed: 4))
        let twin = DoubleTwin(objective)
        let (hvReference, huReference) = (twin.hessianVectorProduct(at: w, v), twin.hessianVectorProduct(at: w, u))
        let reference = (vHv: Self.dot(v, hvReference), uHv: Self.dot(u, hvReference), vHu: Self.dot(v, huReference))
        // The reference is symmetric: u^T H v = v^T H u.
        #expect(abs(reference.uHv - reference.vHu) < 1e-4 * max(abs(reference.uHv), abs(reference.vHu)))
        let (hv, hu) = (objective.hessianVectorProduct(at: w, v), objective.hessianVectorProduct(at: w, u))
        let measured = (vHv: Self.dot(v, hv), uHv: Self.dot(u, hv), vHu: Self.dot(v, hu))
        #expect(Self.relativeError(measured.vHv, reference.vHv) < 1e-2)
        #expect(Self.relativeError(measured.uHv, reference.uHv) < 1e-2)
        #expect(Self.relativeError(measured.vHu, reference.vHu) < 1e-2)
    }
}
