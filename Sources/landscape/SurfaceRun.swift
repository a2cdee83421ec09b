import Analysis
import Foundation

/// Computes the missing cells of the surface file at `path` (created, or resumed when it was
/// started with the same grid and settings), with a progress line counting `unit`s.
func computeSurface(_ computation: SurfaceComputation, into path: String, attributes: [String: String], unit: String = "cells") throws -> SurfaceFile {
    let file = try SurfaceFile.openOrCreate(URL(fileURLWithPath: path), x: computation.x, y: computation.y,
                                            quantities: computation.quantities, attributes: attributes)
    var progress = ProgressLine()
    try computation.run(into: file) { done, total in
        progress.update(done, of: total, String(format: "\(unit), %.2f \(unit)/s", Double(done) / max(progress.elapsed, 1e-9)))
    }
    return file
}
