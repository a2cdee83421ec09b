import LandscapeCore

/// Sharpness of a loss at a point: how much the loss rises under perturbations of the weights.
///
/// - `worstCase`: `max_{||d||_p <= rho} L(w + d) - L(w)` by projected gradient ascent, for `p = 2`
///   and `p = infinity` (the quantity SAM minimizes, Foret et al. 2021), and its adaptive
///   (elementwise scale-invariant) form `max_{||d / |w| ||_p <= rho}` (Kwon et al. 2021,
///   Andriushchenko et al. 2023);
/// - `average`: `E_{d ~ N(0, sigma^2 I)} L(w + d) - L(w)` and its adaptive form;
/// - `mSharpness`: the worst case of each of several sub-batch objectives, averaged (Foret et al.
///   2021, sec. 4.1; Andriushchenko and Flammarion 2022);
/// - `keskar`: Keskar et al. (2017)'s epsilon-sharpness in the box `|d_i| <= eps (|w_i| + 1)`.
///
/// References: P. Foret, A. Kleiner, H. Mobahi, B. Neyshabur, "Sharpness-Aware Minimization for
/// Efficiently Improving Generalization", ICLR 2021; J. Kwon, J. Kim, H. Park, I. K. Choi, "ASAM:
/// Adaptive Sharpness-Aware Minimization for Scale-Invariant Learning of Deep Neural Networks",
/// ICML 2021; M. Andriushchenko, F. Croce, M. Mueller, M. Hein, N. Flammarion, "A Modern Look at
/// the Relationship between Sharpness and Generalization", ICML 2023; N. S. Keskar, D. Mudigere,
/// J. Nocedal, M. Smelyanskiy, P. T. P. Tang, "On Large-Batch Training for Deep Learning:
/// Generalization Gap and Sharp Minima", ICLR 2017; F. Croce, M. Hein, "Reliable evaluation of
/// adversarial robustness with an ensemble of diverse parameter-free attacks", ICML 2020 (APGD).
///
/// Every function leaves a `NetworkObjective`'s parameters as they were and makes its last call to
/// any other objective at `w` (the loss `L(w)` is evaluated last), and is reproducible from the
/// seed in its settings. Results are `Codable` and carry all their settings.
public enum Sharpness {
    /// The ranges of the named blocks of `objective` (all of it for nil).
    static func ranges(of names: [String]?, in objective: any Objective) -> [Range<Int>] {
        guard let names else { return [0..<objective.dimension] }
        let blocks = objective.blocks
        return names.map { name in
            guard let block = blocks.first(where: { $0.name == name }) else {
                preconditionFailure("Sharpness: no block named \(name); the blocks are \(blocks.map(\.name))")
            }
            return block.range
        }
    }

    /// The elementwise scale `s` of a perturbation `d = s * u` with `u` in a plain ball: `offset`
    /// plus `|w_i|` when `adaptive` (1 otherwise) on the perturbed blocks, 0 elsewhere (those
    /// weights never move).
    static func scale(at point: [Double], ranges: [Range<Int>], adaptive: Bool, offset: Double) -> [Double] {
        var s = [Double](repeating: 0, count: point.count)
        for range in ranges {
            for i in range { s[i] = adaptive ? abs(point[i]) + offset : 1 }
        }
        return s
    }

    /// Generator streams, one per measure.
    enum Stream {
        static let worstCase: UInt64 = 0x5348_5250_0001
        static let average: UInt64 = 0x5348_5250_0002
        static let keskar: UInt64 = 0x5348_5250_0003
    }
}

/// The norm of a perturbation ball, `||u||_p <= rho`.
public enum PerturbationNorm: String, Sendable, Codable, CaseIterable {
    /// `p = 2`: steps `eta g / ||g||_2`, projection by rescaling onto the sphere.
    case l2
    /// `p = infinity`: steps `eta sign(g)`, projection by clipping each coordinate to `[-rho, rho]`.
    case linf
}

extension NetworkObjective {
    /// The names of the parameter blocks whose role is in `roles`, in order: e.g.
    /// `[.weight]` to perturb only conv and linear weights (no biases or batch-norm parameters),
    /// for the `blocks` setting of the sharpness measures.
    public func blockNames(roles: Set<ParameterRole>) -> [String] {
        network.parameters.layout.entries.filter { roles.contains($0.role) }.map(\.name)
    }
}
