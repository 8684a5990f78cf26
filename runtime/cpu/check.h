//===- check.h - argument checks for the CPU kernels ----------------------===//
//
// KERNEL_CHECK is defined once for every backend, in cleave/rt/check.h
// (a message naming the kernel and the condition, then exit status 1).
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_CPU_CHECK_H
#define CLEAVE_RT_CPU_CHECK_H

#include "cleave/rt/check.h"

#endif // CLEAVE_RT_CPU_CHECK_H
