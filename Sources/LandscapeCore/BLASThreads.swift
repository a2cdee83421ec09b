import CBLAS

/// OpenBLAS runs on the thread that calls it.
///
/// The toolkit does its own threading (a network splits a batch between threads, a surface
/// evaluates several grid points at once), each thread calling OpenBLAS with its part. OpenBLAS's
/// thread count is one setting for the whole process, and changing it while another thread is inside
/// a call changes which kernels that call uses, and so its rounding; so it is set once, before the
/// first network is built, and never changed.
public enum BLASThreads {
    /// Sets OpenBLAS to one thread; the first call does it, later calls do nothing.
    public static func useCallingThread() { _ = setOnce }

    private static let setOnce: Void = openblas_set_num_threads(1)
}
