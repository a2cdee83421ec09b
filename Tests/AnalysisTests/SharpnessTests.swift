import Analysis
import Foundation
import LandscapeCore
import Networks
import Testing
import Training

/// Sharpness measures on quadratics, where every one has a closed form, and on a tiny network for
/// restoration, reproducibility and JSON.
struct SharpnessTests {
    static func relativeError(_ x: Double, _ y: Double) -> Double { abs(x - y) / max(abs(y), 1e-300) }

    @Test("worst-case L2 sharpness at the minimum of a dense quadratic is rho^2 lambda_max / 2, along the top eigenvector")
    func worstCaseL2AtMinimum() {
        let lambda = [5, 3, 2, 1.5, 1, 0.5, 0, -0.5, -1, -2, -3, -4.5]
        let (a, q) = KnownSpectrum.matrix(eigenvalues: lambda, seed: 1)
        let c = KnownSpectrum.vector(lambda.count, seed: 2)
        let objective = QuadraticObjective(matrix: a, centre: c)
        let rho = 0.1
        let result = Sharpness.worstCase(of: objective, at: c, settings: WorstCaseSharpnessSettings(radius: rho, steps: 60, keepsPerturbation: true))
        let expected = rho * rho * 5 / 2
        #expect(Self.relativeError(result.sharpness, expected) < 1e-6, "sharpness \(result.sharpness), expected \(expected)")
        #expect(result.loss == 0)
        #expect(abs(result.constraintNorm - rho) < 1e-12)
        // The worst perturbation is +-rho times the top eigenvector.
        let d = result.perturbation!
        let cosine = abs((0..<lambda.count).reduce(0) { $0 + d[$1] * q[$1][0] }) / rho
        #expect(cosine > 1 - 1e-6)
        #expect(result.gradientEvaluations == 60 && result.valueEvaluations == 2 && result.runs.count == 1)
        #expect(objective.lastPoint == c, "the last call is at the analysed point")
    }

    /// The maximum of `1/2 (w + d)^T A (w + d)` over the circle `||d|| = rho` (the maximum of a
    /// convex function over the disc is on its boundary) by a fine grid in the angle and a golden
    /// section search around the best grid point.
    static func bruteForceCircle(_ a: [Double], _ w: [Double], _ rho: Double) -> Double {
        func f(_ t: Double) -> Double {
            let x = w[0] + rho * cos(t), y = w[1] + rho * sin(t)
            return 0.5 * (a[0] * x * x + a[1] * y * y)
        }
        let count = 100_000
        let step = 2 * Double.pi / Double(count)
        let best = (0..<count).max { f(Double($0) * step) < f(Double($1) * step) }!
        var (lo, hi) = (Double(best - 1) * step, Double(best + 1) * step)
        let ratio = (5.0.squareRoot() - 1) / 2
        for _ in 0..<100 {
            let (x1, x2) = (hi - ratio * (hi - lo), lo + ratio * (hi - lo))
            if f(x1) < f(x2) { lo = x1 } else { hi = x2 }
        }
        return f((lo + hi) / 2)
    }

    @Test("worst-case L2 sharpness away from the minimum matches a brute-force search over the circle",
          arguments: [[0.05, 0.3], [0.4, -0.2], [-0.1, 0.02]])
    func worstCaseL2AwayFromMinimum(w: [Double]) {
        let diagonal = [3.0, 1.0]
        let objective = QuadraticObjective(diagonal: diagonal, centre: [0, 0])
        let rho = 1.0
        let result = Sharpness.worstCase(of: objective, at: w, settings: WorstCaseSharpnessSettings(radius: rho, steps: 60, randomStarts: 3, seed: 5))
        let loss = 0.5 * (diagonal[0] * w[0] * w[0] + diagonal[1] * w[1] * w[1])
        let expected = Self.bruteForceCircle(diagonal, w, rho) - loss
        #expect(Self.relativeError(result.sharpness, expected) < 1e-6, "sharpness \(result.sharpness), brute force \(expected)")
        #expect(result.runs.count == 4)
        #expect(objective.lastPoint == w)
    }

    @Test("worst-case L-infinity sharpness at the minimum of a diagonal quadratic is rho^2 sum(A_ii) / 2, at a corner")
    func worstCaseLinfAtMinimum() {
        let diagonal = [4, 2, 1, 0.5, 0.25, 0]
        let c = [0.3, -1, 2, 0, 0.7, -0.2]
        let objective = QuadraticObjective(diagonal: diagonal, centre: c)
        let rho = 0.05
        let result = Sharpness.worstCase(of: objective, at: c, settings: WorstCaseSharpnessSettings(radius: rho, norm: .linf, keepsPerturbation: true))
        let expected = rho * rho * diagonal.reduce(0, +) / 2
        #expect(Self.relativeError(result.sharpness, expected) < 1e-6, "sharpness \(result.sharpness), expected \(expected)")
        #expect(result.perturbation!.prefix(5).allSatisfy { abs(abs($0) - rho) < 1e-15 }, "a corner of the box")
        #expect(abs(result.constraintNorm - rho) < 1e-15)
    }

    @Test("adaptive L2 sharpness at the minimum of a diagonal quadratic is rho^2 / 2 max_i A_ii w_i^2; zero weights stay put")
    func adaptiveAtMinimum() {
        let diagonal = [1, 4, 0.5, 10, 2, 100]
        let w = [2, -0.5, 1, 0.1, -1, 0]
        let objective = QuadraticObjective(diagonal: diagonal, centre: w)
        let rho = 0.2
        let result = Sharpness.worstCase(of: objective, at: w, settings: WorstCaseSharpnessSettings(radius: rho, adaptive: true, steps: 60, keepsPerturbation: true))
        // A_ii w_i^2 = 4, 1, 0.5, 0.1, 2, 0: the first coordinate, although A_55 = 100.
        let expected = rho * rho / 2 * 4
        #expect(Self.relativeError(result.sharpness, expected) < 1e-6, "sharpness \(result.sharpness), expected \(expected)")
        let d = result.perturbation!
        #expect(d[5] == 0, "a zero weight does not move with eta = 0")
        #expect(abs(abs(d[0]) - rho * 2) < 1e-6, "d_0 = +-rho |w_0|")
        #expect(result.perturbedCoordinates == 5)

        // With eta > 0 the zero weight moves: max over ||d / (|w| + eta)|| <= rho of
        // 1/2 sum A_ii d_i^2 is rho^2 / 2 max_i A_ii (|w_i| + eta)^2 = rho^2 / 2 * 100 * 0.5^2 here.
        let withEta = Sharpness.worstCase(of: objective, at: w, settings: WorstCaseSharpnessSettings(radius: rho, adaptive: true, eta: 0.5, steps: 60))
        #expect(Self.relativeError(withEta.sharpness, rho * rho / 2 * 100 * 0.25) < 1e-6, "\(withEta.sharpness)")
    }

    @Test("average-case sharpness is sigma^2 tr(A) / 2 (plain) and sigma^2 / 2 sum A_ii |w_i|^2 (adaptive) within 3 standard errors",
          arguments: [false, true])
    func averageCase(antithetic: Bool) {
        let lambda = [3, 2, 1, 0.5, 0.2, -0.3, -1, 2.5]
        let (a, _) = KnownSpectrum.matrix(eigenvalues: lambda, seed: 3)
        let c = KnownSpectrum.vector(lambda.count, seed: 4)
        let w = zip(c, KnownSpectrum.vector(lambda.count, seed: 5, scale: 0.5)).map { $0 + $1 }
        let objective = QuadraticObjective(matrix: a, centre: c, offset: 0.25)
        let sigma = 0.1
        let plain = Sharpness.average(of: objective, at: w, settings: AverageSharpnessSettings(sigma: sigma, samples: 2000, antithetic: antithetic, seed: 6))
        let expected = sigma * sigma * objective.trace / 2
        #expect(abs(plain.sharpness - expected) < 3 * plain.standardError, "\(plain.sharpness) +- \(plain.standardError), expected \(expected)")
        #expect(plain.samples.count == 2000 && plain.valueEvaluations == (antithetic ? 4001 : 2001))
        #expect(objective.lastPoint == w)

        let adaptive = Sharpness.average(of: objective, at: w, settings: AverageSharpnessSettings(sigma: sigma, adaptive: true, samples: 2000, antithetic: antithetic, seed: 7))
        let expectedAdaptive = sigma * sigma / 2 * (0..<w.count).reduce(0) { $0 + a[$1][$1] * w[$1] * w[$1] }
        #expect(abs(adaptive.sharpness - expectedAdaptive) < 3 * adaptive.standardError,
                "\(adaptive.sharpness) +- \(adaptive.standardError), expected \(expectedAdaptive)")
        if antithetic {
            // For a quadratic the antithetic pairs cancel the linear term: each sample is exactly
            // 1/2 d^T A d, so the error is far below that of the plain mean.
            #expect(plain.standardError < 0.2 * expected)
        }
    }

    @Test("Keskar sharpness at the minimum of a diagonal quadratic: 100 * (1/2 sum A_ii eps^2 (|w_i| + 1)^2) / (1 + L)")
    func keskar() {
        let diagonal = [2, 1, 0.5, 3, 0]
        let w = [1.5, -0.5, 0, 2, 1]
        let offset = 0.5
        let objective = QuadraticObjective(diagonal: diagonal, centre: w, offset: offset)
        let epsilon = 1e-2
        let result = Sharpness.keskar(of: objective, at: w, settings: KeskarSharpnessSettings(epsilon: epsilon))
        let rise = 0.5 * (0..<w.count).reduce(0) { $0 + diagonal[$1] * epsilon * epsilon * (abs(w[$1]) + 1) * (abs(w[$1]) + 1) }
        let expected = 100 * rise / (1 + offset)
        #expect(Self.relativeError(result.sharpness, expected) < 1e-6, "sharpness \(result.sharpness), expected \(expected)")
        #expect(result.loss == offset && Self.relativeError(result.maximumLoss, offset + rise) < 1e-12)
        #expect(objective.lastPoint == w)
    }

    @Test("only the named blocks are perturbed")
    func blocks() {
        let diagonal = [4, 2, 1, 0.5, 0.25, 3]
        let c = [0.3, -1, 2, 0, 0.7, -0.2]
        let objective = QuadraticObjective(diagonal: diagonal, centre: c, blocks: [("a", 0..<2), ("b", 2..<5), ("c", 5..<6)])
        let rho = 0.05
        let result = Sharpness.worstCase(of: objective, at: c, settings: WorstCaseSharpnessSettings(radius: rho, norm: .linf, blocks: ["a", "c"]))
        #expect(Self.relativeError(result.sharpness, rho * rho * (4 + 2 + 3) / 2) < 1e-6)
        #expect(result.perturbedCoordinates == 3)
    }

    @Test("m-sharpness averages the worst case of each sub-batch objective, chunk k with seed + k")
    func mSharpness() {
        let rho = 0.05
        let diagonals = [[4.0, 2, 1], [1.0, 1, 1], [0.5, 3, 0]]
        let c = [0.3, -1, 2.0]
        let objectives: [any Objective] = diagonals.map { QuadraticObjective(diagonal: $0, centre: c) }
        let result = Sharpness.mSharpness(of: objectives, at: c, settings: WorstCaseSharpnessSettings(radius: rho, norm: .linf, seed: 10))
        let expected = diagonals.map { rho * rho * $0.reduce(0, +) / 2 }
        for (value, exact) in zip(result.values, expected) { #expect(Self.relativeError(value, exact) < 1e-6) }
        #expect(Self.relativeError(result.sharpness, expected.reduce(0, +) / 3) < 1e-6)
        #expect(result.chunks.map(\.settings.seed) == [10, 11, 12])
        #expect(result.standardError != nil)
    }

    /// A tiny classifier on 3 features and its data, wrapped as an objective.
    static func tinyNetworkObjective(samples: Int = 12, seed: UInt64 = 3) -> NetworkObjective {
        let network = Network<Float>(layers: [.linear(name: "fc1", inputs: 3, outputs: 4), .relu, .linear(name: "fc2", inputs: 4, outputs: 3)],
                                     inputShape: Shape(n: 1, features: 3))
        network.initialize(seed: seed)
        var generator = RandomGenerator(seed: seed, stream: 9)
        let images = (0..<(samples * 3)).map { _ in Float(generator.normal()) }
        let labels = (0..<samples).map { _ in Int32(generator.integer(below: 3)) }
        let data = Dataset(name: "tiny", images: images, labels: labels, height: 1, width: 1, channels: 3, classes: 3)
        return NetworkObjective(network: network, data: data)
    }

    @Test("on a network: parameters restored bit for bit, the same seed gives the same result, results round-trip through JSON")
    func networkRestorationAndReproducibility() throws {
        let objective = Self.tinyNetworkObjective()
        let before = Array(objective.network.parameters.elements)
        let settings = WorstCaseSharpnessSettings(radius: 0.05, randomStarts: 1, blocks: objective.blockNames(roles: [.weight]), seed: 4)
        let first = Sharpness.worstCase(of: objective, at: objective.origin, settings: settings)
        #expect(Array(objective.network.parameters.elements) == before)
        let second = Sharpness.worstCase(of: objective, at: objective.origin, settings: settings)
        #expect(first == second)
        #expect(first.sharpness > 0 && first.perturbedCoordinates == 3 * 4 + 4 * 3)
        #expect(first.constraintNorm <= 0.05 * (1 + 1e-12))

        let average = Sharpness.average(of: objective, at: objective.origin, settings: AverageSharpnessSettings(sigma: 0.01, samples: 5))
        let keskar = Sharpness.keskar(of: objective, at: objective.origin, settings: KeskarSharpnessSettings(steps: 4))
        let chunks = Sharpness.subBatchObjectives(network: objective.network, data: objective.data, m: 4)
        #expect(chunks.count == 3)
        let m = Sharpness.mSharpness(of: chunks, at: objective.origin, settings: WorstCaseSharpnessSettings(radius: 0.05, steps: 3))
        #expect(Array(objective.network.parameters.elements) == before)

        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        #expect(try decoder.decode(WorstCaseSharpness.self, from: encoder.encode(first)) == first)
        #expect(try decoder.decode(AverageSharpness.self, from: encoder.encode(average)) == average)
        #expect(try decoder.decode(KeskarSharpness.self, from: encoder.encode(keskar)) == keskar)
        #expect(try decoder.decode(MSharpness.self, from: encoder.encode(m)) == m)
        let json = String(decoding: try encoder.encode(first), as: UTF8.self)
        #expect(json.contains("\"radius\":0.05") && json.contains("\"schedule\":\"apgd\"") && json.contains("\"norm\":\"l2\""))
    }

    @Test("a constant schedule keeps its step; APGD halves it once the ascent stalls; both find the same maximum")
    func schedules() {
        let objective = QuadraticObjective(diagonal: [2, 1], centre: [0, 0])
        let apgd = Sharpness.worstCase(of: objective, at: [0.1, 0.2], settings: WorstCaseSharpnessSettings(radius: 0.5, steps: 100))
        let constant = Sharpness.worstCase(of: objective, at: [0.1, 0.2], settings: WorstCaseSharpnessSettings(radius: 0.5, steps: 100, schedule: .constant, stepSize: 0.5))
        #expect(constant.runs[0].halvings == 0 && constant.runs[0].finalStepSize == 0.25)
        #expect(apgd.runs[0].halvings >= 1)
        #expect(Self.relativeError(apgd.sharpness, constant.sharpness) < 1e-6)
    }
}
