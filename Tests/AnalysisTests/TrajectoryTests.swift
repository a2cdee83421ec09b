import Analysis
import Foundation
import LandscapeCore
import Networks
import Testing

/// The PCA plane of a training path, on synthetic checkpoints that lie exactly in a known plane
/// around the final weights: `w_i = w_final + a_i u + b_i v` over the weight entries, with `u` and
/// `v` orthonormal and the coefficients known.
struct TrajectoryTests {
    /// One linear layer: `fc.weight` [3, 4] (12 entries) then `fc.bias` [3].
    static func network() -> Network<Float> {
        Network<Float>(layers: [.linear(name: "fc", inputs: 4, outputs: 3)], inputShape: Shape(n: 1, features: 4))
    }

    static let weightCount = 12
    static let parameterCount = 15

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

    /// Two orthonormal vectors over the 12 weight entries (Gram-Schmidt of two fixed vectors), zero
    /// on the bias.
    static let (u, v) = orthonormalPair()

    static func orthonormalPair() -> ([Double], [Double]) {
        let p: [Double] = [1, -2, 3, 0.5, -1.5, 2, 0.25, -0.75, 1, 1.25, -0.5, 2.5]
        let q: [Double] = [0.5, 1, -1, 2, 0.75, -0.25, 1.5, 1, -2, 0.5, 1.75, -1]
        let u = p.map { $0 / norm(p) }
        let r = zip(q, u).map { $0 - dot(q, u) * $1 }
        let v = r.map { $0 / norm(r) }
        return (u + [0, 0, 0], v + [0, 0, 0])
    }

    /// The final weights: entries of different signs and sizes, bias included.
    static let final: [Double] = (0..<15).map { (k: Int) -> Double in
        let cycle = Double(k % 5) * 0.3
        return cycle - 0.55 + Double(k) * 0.01
    }

    /// The coefficients of the checkpoints before the final one: a path spiralling in, spread much
    /// more along one axis of the plane than the other, and not on a line.
    static let coefficients: [(a: Double, b: Double)] = [(3, 1), (2.2, -0.6), (1.5, 0.8), (0.9, -0.3), (0.4, 0.2)]

    /// The checkpoints with the final network last; `bias(i)` is added to checkpoint i's bias.
    static func checkpoints(bias: (Int) -> [Double] = { _ in [0, 0, 0] }) -> [Network<Float>] {
        var points = coefficients.map { c in (0..<15).map { final[$0] + c.a * u[$0] + c.b * v[$0] } }
        points.append(final)
        return points.enumerated().map { index, point in
            let network = network()
            let offsets = index < coefficients.count ? bias(index) : [0, 0, 0]
            for i in 0..<15 { network.parameters.elements[i] = Float(point[i] + (i >= 12 ? offsets[i - 12] : 0)) }
            return network
        }
    }

    static let names = ["epoch1", "epoch2", "epoch3", "epoch4", "epoch5", "final"]

    @Test("the parameter layout is the one the test assumes")
    func layout() {
        let network = Self.network()
        #expect(network.parameters.layout.entries.map(\.name) == ["fc.weight", "fc.bias"])
        #expect(network.parameters.count == Self.parameterCount)
        #expect(network.parameters.layout.entries[0].range == 0..<Self.weightCount)
        #expect(abs(Self.dot(Self.u, Self.v)) < 1e-15)
        #expect(abs(Self.norm(Self.u) - 1) < 1e-15 && abs(Self.norm(Self.v) - 1) < 1e-15)
    }

    @Test("points in a plane: the two explained variance ratios sum to 1 and match the plane's covariance")
    func explainedVariance() throws {
        let (trajectory, _, _) = try Trajectory.compute(Self.checkpoints(), names: Self.names)
        let ratios = trajectory.explainedVarianceRatio
        try #require(ratios.count == 2)
        #expect(abs(ratios[0] + ratios[1] - 1) <= 1e-6)
        #expect(ratios[0] >= ratios[1])
        let (lambda1, lambda2, _) = Self.principalAxes()
        #expect(abs(ratios[0] - lambda1 / (lambda1 + lambda2)) <= 1e-6)
        #expect(trajectory.checkpoints == Self.names)
        #expect(trajectory.ignoresBiasAndNorm)
    }

    /// The eigenvalues (descending) and leading unit eigenvector of the covariance of the centred
    /// coefficients, the final checkpoint's (0, 0) included, as the PCA includes it.
    static func principalAxes() -> (Double, Double, (Double, Double)) {
        let points = coefficients + [(a: 0, b: 0)]
        let n = Double(points.count)
        let meanA = points.reduce(0) { $0 + $1.a } / n, meanB = points.reduce(0) { $0 + $1.b } / n
        var (p, q, r) = (0.0, 0.0, 0.0)
        for c in points {
            p += (c.a - meanA) * (c.a - meanA)
            q += (c.b - meanB) * (c.b - meanB)
            r += (c.a - meanA) * (c.b - meanB)
        }
        let centre = (p + q) / 2, radius = (((p - q) / 2) * ((p - q) / 2) + r * r).squareRoot()
        let theta = atan2(2 * r, p - q) / 2
        return (centre + radius, centre - radius, (cos(theta), sin(theta)))
    }

    @Test("the first direction is, up to sign, the direction of largest variance of the centred points")
    func firstDirection() throws {
        let (_, first, second) = try Trajectory.compute(Self.checkpoints(), names: Self.names)
        let (lambda1, lambda2, (c, s)) = Self.principalAxes()
        #expect(lambda1 > 2 * lambda2)
        let expected = zip(Self.u, Self.v).map { c * $0 + s * $1 }
        #expect(abs(abs(Self.dot(first.parameters, expected)) - 1) <= 1e-6)
        // The second lies in the same plane, orthogonal to the first.
        let expectedSecond = zip(Self.u, Self.v).map { -s * $0 + c * $1 }
        #expect(abs(abs(Self.dot(second.parameters, expectedSecond)) - 1) <= 1e-6)
    }

    @Test("directions have unit norm, are orthogonal, have no state and are zero on the bias")
    func directions() throws {
        let (_, first, second) = try Trajectory.compute(Self.checkpoints(), names: Self.names)
        #expect(first.parameters.count == Self.parameterCount && second.parameters.count == Self.parameterCount)
        #expect(abs(Self.norm(first.parameters) - 1) <= 1e-9)
        #expect(abs(Self.norm(second.parameters) - 1) <= 1e-9)
        #expect(abs(Self.dot(first.parameters, second.parameters)) <= 1e-9)
        #expect(first.state == nil && second.state == nil)
        #expect(first.parameters[12...].allSatisfy { $0 == 0 })
        #expect(second.parameters[12...].allSatisfy { $0 == 0 })
    }

    @Test("the projections keep the path's geometry, with the final checkpoint at the origin")
    func projections() throws {
        let (trajectory, _, _) = try Trajectory.compute(Self.checkpoints(), names: Self.names)
        try #require(trajectory.x.count == 6 && trajectory.y.count == 6)
        #expect(trajectory.x[5] == 0 && trajectory.y[5] == 0)
        let original = Self.coefficients + [(a: 0, b: 0)]
        for i in 0..<6 {
            for j in (i + 1)..<6 {
                let projected = ((trajectory.x[i] - trajectory.x[j]) * (trajectory.x[i] - trajectory.x[j])
                    + (trajectory.y[i] - trajectory.y[j]) * (trajectory.y[i] - trajectory.y[j])).squareRoot()
                let distance = ((original[i].a - original[j].a) * (original[i].a - original[j].a)
                    + (original[i].b - original[j].b) * (original[i].b - original[j].b)).squareRoot()
                #expect(abs(projected - distance) <= 1e-5 * distance, "checkpoints \(i) and \(j): \(projected) vs \(distance)")
            }
        }
        // Orientation aside, the coordinates are the coefficients rotated into the principal axes.
        let (_, _, (c, s)) = Self.principalAxes()
        for (i, coefficient) in Self.coefficients.enumerated() {
            let along = c * coefficient.a + s * coefficient.b, across = -s * coefficient.a + c * coefficient.b
            #expect(abs(abs(trajectory.x[i]) - abs(along)) <= 1e-5 * (1 + abs(along)), "x of checkpoint \(i)")
            #expect(abs(abs(trajectory.y[i]) - abs(across)) <= 1e-5 * (1 + abs(across)), "y of checkpoint \(i)")
        }
    }

    @Test("biases that move off the plane are ignored by default, and change the result when not ignored")
    func biasesIgnored() throws {
        let moving: (Int) -> [Double] = { i in [0.3 * Double(i * i), -0.2 * Double(i), 0.5 * Double(i % 2)] }
        let plain = try Trajectory.compute(Self.checkpoints(), names: Self.names)
        let ignored = try Trajectory.compute(Self.checkpoints(bias: moving), names: Self.names)
        #expect(ignored.1.parameters[12...].allSatisfy { $0 == 0 })
        #expect(ignored.2.parameters[12...].allSatisfy { $0 == 0 })
        #expect(ignored.0.x == plain.0.x)
        #expect(ignored.0.y == plain.0.y)
        #expect(ignored.0.explainedVarianceRatio == plain.0.explainedVarianceRatio)

        let kept = try Trajectory.compute(Self.checkpoints(bias: moving), names: Self.names, ignoreBiasAndNorm: false)
        #expect(!kept.0.ignoresBiasAndNorm)
        #expect(kept.1.parameters[12...].contains { $0 != 0 } || kept.2.parameters[12...].contains { $0 != 0 })
        // A third dimension of variation: the plane no longer explains everything.
        #expect(kept.0.explainedVarianceRatio[0] + kept.0.explainedVarianceRatio[1] < 1 - 1e-6)
        #expect(abs(Self.norm(kept.1.parameters) - 1) <= 1e-9)
        #expect(abs(Self.dot(kept.1.parameters, kept.2.parameters)) <= 1e-9)
    }

    @Test("JSON uses the reference's field names")
    func json() throws {
        let (trajectory, _, _) = try Trajectory.compute(Self.checkpoints(), names: Self.names)
        let data = try JSONEncoder().encode(trajectory)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["checkpoints", "x", "y", "explained_variance_ratio", "ignore_biasbn"])
        let decoded = try JSONDecoder().decode(Trajectory.self, from: data)
        #expect(decoded.x == trajectory.x && decoded.y == trajectory.y && decoded.checkpoints == trajectory.checkpoints)
    }

    @Test("with two checkpoints besides the final one (the fewest allowed) the three points span the plane")
    func twoCheckpoints() throws {
        let all = Self.checkpoints()
        let (trajectory, first, second) = try Trajectory.compute([all[0], all[2], all[5]], names: ["epoch1", "epoch3", "final"])
        #expect(abs(trajectory.explainedVarianceRatio.reduce(0, +) - 1) <= 1e-9)
        #expect(abs(Self.norm(first.parameters) - 1) <= 1e-9 && abs(Self.norm(second.parameters) - 1) <= 1e-9)
        #expect(abs(Self.dot(first.parameters, second.parameters)) <= 1e-9)
        #expect(trajectory.x[2] == 0 && trajectory.y[2] == 0)
    }

    @Test("checkpoints on a line have no second direction: a clear error")
    func collinear() throws {
        let all = Self.checkpoints()
        // Scaled copies of one checkpoint's offset lie on a line through the final weights.
        let line = [2.0, 1.0].map { factor -> Network<Float> in
            let network = Self.network()
            for i in 0..<15 { network.parameters.elements[i] = Float(Self.final[i] + factor * (Double(all[0].parameters.elements[i]) - Self.final[i])) }
            return network
        }
        #expect(throws: AnalysisError.self) { try Trajectory.compute(line + [all[5]], names: ["a", "b", "final"]) }
    }
}
