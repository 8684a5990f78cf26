//===- NonBlockingChecks.h - the non-blocking collectives' checks ---------===//
#ifndef CLEAVE_TESTS_NON_BLOCKING_CHECKS_H
#define CLEAVE_TESTS_NON_BLOCKING_CHECKS_H

#include "cleave/rt/comm.h"

namespace cleave::rt::test {

/// The non-blocking collectives of `world` and its grid groups (host
/// buffers) against the blocking ones, bit for bit. Prints each failed
/// check and "<n> non-blocking checks per rank on <size> ranks, <f>
/// failures" on rank 0; returns 0 when every rank passed, else 1.
int check_nonblocking(Communicator &world);

} // namespace cleave::rt::test

#endif // CLEAVE_TESTS_NON_BLOCKING_CHECKS_H
