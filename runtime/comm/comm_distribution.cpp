//===- comm_distribution.cpp - a Distribution over a communicator world ---===//
#include "cleave/rt/comm_distribution.h"

#include <cstdlib>

namespace cleave::rt {

bool CommDistribution::any(bool flag) {
  int64_t value = flag ? 1 : 0;
  world_.all_reduce_sum(&value, 1);
  return value != 0;
}

double CommDistribution::take_receive_wait_seconds() {
  double seconds = groups_.receive_wait_seconds();
  groups_.reset_receive_wait_seconds();
  return seconds;
}

void CommDistribution::abort_job(int exit_status) {
  world_.abort_job(exit_status);
  std::_Exit(exit_status); // not reached; GCC does not see the virtual call as noreturn
}

void CommDistribution::all_gather_bytes(const void *send, void *recv, int64_t bytes) {
  world_.all_gather(send, recv, bytes, CommElement::u8);
}

} // namespace cleave::rt
