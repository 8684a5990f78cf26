//===- CommChecks.h - the collective checks shared by the comm tests -------===//
#ifndef CLEAVE_TESTS_COMM_CHECKS_H
#define CLEAVE_TESTS_COMM_CHECKS_H

#include "cleave/rt/comm.h"

namespace cleave::rt::test {

/// Every collective of `world` (host buffers; MPI_COMM_WORLD's ranks in
/// order) and of its grid groups against expectations computed here.
/// Prints each failed check and "<n> checks per rank on <size> ranks, <f>
/// failures" on rank 0; returns 0 when every rank passed, else 1.
/// Sums must be the rank-order bits under ReductionOrder::rank, within
/// rounding (and the same on every rank, and on a repeat) under library;
/// the first form takes the order from CLEAVE_REDUCTION_ORDER.
int check_collectives(Communicator &world);
int check_collectives(Communicator &world, CommOptions::ReductionOrder order);

} // namespace cleave::rt::test

#endif // CLEAVE_TESTS_COMM_CHECKS_H
