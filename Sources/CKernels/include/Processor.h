#ifndef LANDSCAPE_PROCESSOR_H
#define LANDSCAPE_PROCESSOR_H

/// Whether this CPU has AVX-512F, which every kernel of this target needs. Which shapes each kernel
/// takes is the caller's rule.
int landscape_has_avx512(void);

/// The processors this process may run on (its affinity mask, which `taskset` and container
/// cpusets narrow), or 0 where that cannot be read.
int landscape_allowed_processors(void);

#endif
