#ifndef LANDSCAPE_PROCESSOR_H
#define LANDSCAPE_PROCESSOR_H

/// Whether this CPU has AVX-512F, which every kernel of this target needs. Which shapes each kernel
/// takes is the caller's rule.
int landscape_has_avx512(void);

#endif
