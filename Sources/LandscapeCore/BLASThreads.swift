import CBLAS

/// The number of threads OpenBLAS uses inside one call.
///
/// Work that is already parallel across cores (several grid points of a loss surface at once)
/// runs each GEMM on one thread, so the cores are not oversubscribed.
public enum BLASThreads {
    public static var count: Int { Int(openblas_get_num_threads()) }

    /// Runs `work` with OpenBLAS limited to `threads`, then restores the previous setting.
    public static func with<R>(_ threads: Int, _ work: () throws -> R) rethrows -> R {
        let previous = openblas_get_num_threads()
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(previous) }
        return try work()
    }
}
