import LandscapeCore

extension Hessian {
    /// The top eigenvalue(s) and the trace of each diagonal block `H_BB` of the Hessian at `point`,
    /// one block per parameter tensor (`Objective.blocks`, e.g. `conv1.weight`): the per-layer
    /// curvature that PyHessian users compute layer by layer.
    ///
    /// For a block `B`, vectors are zero outside `B`, and only the `B` part of `H v` is kept, so the
    /// operator is exactly `H_BB`; `Hessian.topEigenvalues` and `Hessian.trace` then run on it with
    /// `eigenvalues` and `trace` as templates whose `block` is set to each block in turn. The
    /// traces of all blocks add up to the trace of `H`, and `lambda_max(H_BB) <= lambda_max(H)`
    /// since `H_BB` is a principal submatrix (Cauchy interlacing). Every block costs its own
    /// Hessian-vector products (each a full product).
    ///
    /// `blocks` selects block names (nil: all, in order).
    public static func blockSpectra(of objective: any Objective, at point: [Double],
                                    eigenvalues: HessianEigenvalueSettings = HessianEigenvalueSettings(),
                                    trace: HessianTraceSettings = HessianTraceSettings(),
                                    blocks: [String]? = nil) -> HessianBlockSpectra {
        preservingParameters(of: objective) {
            let all = objective.blocks
            let names = blocks ?? all.map(\.name)
            let spectra = names.map { name in
                guard let block = all.first(where: { $0.name == name }) else {
                    preconditionFailure("Hessian.blockSpectra: no block named \(name); the blocks are \(all.map(\.name))")
                }
                var eigenvalueSettings = eigenvalues
                eigenvalueSettings.block = name
                var traceSettings = trace
                traceSettings.block = name
                return HessianBlockSpectrum(
                    name: name, offset: block.range.lowerBound, count: block.range.count,
                    eigenvalues: topEigenvalues(of: objective, at: point, settings: eigenvalueSettings),
                    trace: Hessian.trace(of: objective, at: point, settings: traceSettings))
            }
            return HessianBlockSpectra(blocks: spectra)
        }
    }
}

/// The curvature of one diagonal block `H_BB` of a Hessian.
public struct HessianBlockSpectrum: Codable, Sendable, Equatable {
    /// The block's name, e.g. `layer1.conv1.weight`.
    public let name: String
    /// Where the block starts in the parameter vector.
    public let offset: Int
    /// The block's length.
    public let count: Int
    /// Its largest eigenvalues (settings included).
    public let eigenvalues: HessianEigenvalues
    /// Its trace (settings included).
    public let trace: HessianTrace
}

/// The per-block curvature of a Hessian, block by block in parameter order.
public struct HessianBlockSpectra: Codable, Sendable, Equatable {
    /// One entry per block, in parameter order.
    public let blocks: [HessianBlockSpectrum]

    /// Hessian-vector products over all blocks.
    public var hessianVectorProducts: Int { blocks.reduce(0) { $0 + $1.eigenvalues.iterations + $1.trace.samples.count } }
}
