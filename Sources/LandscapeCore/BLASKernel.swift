import CBLASKernel

/// The kernel family OpenBLAS runs in this process.
///
/// Debian's OpenBLAS chooses its kernels by CPU model when it loads, and falls back to generic SSE3
/// kernels on a model newer than its release; the C target `CBLASKernel` then chooses by the CPU's
/// instruction set instead, before `main` (set `OPENBLAS_CORETYPE` to choose by hand). Rounding
/// depends on the kernels, so the benchmark reports them beside its figures.
public enum BLASKernel {
    /// OpenBLAS's name for it, e.g. "Cooperlake".
    public static var name: String { String(cString: landscape_blas_kernel()) }
}
