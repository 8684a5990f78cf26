//===- threads.cpp - --threads for whatever thread pools the executable has -===//
#include "cleave/rt/threads.h"

#include <dlfcn.h>

#include <initializer_list>

namespace cleave::rt {

int set_thread_count(int threads) {
  using SetThreads = void (*)(int);
  int found = 0;
  for (const char *symbol : {"omp_set_num_threads", "openblas_set_num_threads"}) {
    if (void *address = dlsym(RTLD_DEFAULT, symbol)) {
      reinterpret_cast<SetThreads>(address)(threads);
      ++found;
    }
  }
  return found;
}

} // namespace cleave::rt
