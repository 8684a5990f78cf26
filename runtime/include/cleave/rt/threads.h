//===- threads.h - --threads for whatever thread pools the executable has ---===//
#ifndef CLEAVE_RT_THREADS_H
#define CLEAVE_RT_THREADS_H

namespace cleave::rt {

/// Sets the thread count of the OpenMP runtime and of OpenBLAS, each if the
/// executable links it. The core library is target-independent and links
/// neither, so it finds omp_set_num_threads and openblas_set_num_threads
/// with dlsym in the process's global scope. Returns how many of the two
/// were found (0: the setting has no effect, which the driver reports).
int set_thread_count(int threads);

} // namespace cleave::rt

#endif // CLEAVE_RT_THREADS_H
