//===- gloo_job.h - what the gloo communicators of one process share -------===//
//
// Private to cleave_rt_comm. A launch without mpirun has one store (served
// by rank 0), one TCP device (listening socket and event loop) and one set
// of options; every communicator split from the world holds the job, so
// the store outlives the last split's rendezvous.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_COMM_GLOO_JOB_H
#define CLEAVE_RT_COMM_GLOO_JOB_H

#include "gloo_store.h"

#include "cleave/rt/comm.h"

#include <gloo/context.h>
#include <gloo/transport/device.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cleave::rt {

struct GlooJob {
  CommOptions options;
  /// This process's world rank and the world's size.
  int rank = 0;
  int size = 1;
  std::unique_ptr<StoreServer> server; // rank 0 only
  std::unique_ptr<TcpStore> store;
  std::shared_ptr<gloo::transport::Device> device;
  /// The world rank behind each address gloo's messages name
  /// ("[127.0.0.1]:41234": a pair's listening address), learnt by
  /// learn_addresses.
  std::map<std::string, int> socket_owner;

  /// Collective over the `size` ranks that call it with the same `prefix`:
  /// a context connecting each pair of them. Throws Error.
  std::shared_ptr<gloo::Context> connect(const std::string &prefix, int rank, int size);
  /// After connect(prefix, group_rank, ...): reads the members' pair
  /// addresses that the rendezvous left in the store.
  void learn_addresses(const std::string &prefix, int group_rank,
                       const std::vector<int> &world_ranks);
  /// After a timeout that cannot tell whom it waited on (inside gloo's own
  /// all-reduce): each member that also timed out says so in the store
  /// under `tag`; the world ranks that do not within a short window are
  /// returned. When the store itself does not answer, rank 0 (its server)
  /// is the one lost: {0}.
  std::vector<int> silent_ranks(const std::string &tag, int group_rank,
                                const std::vector<int> &world_ranks);
  /// The world rank whose address `message` (a gloo error) names, or -1.
  int rank_in_message(const std::string &message) const;
  /// Prints "cleave: error: <message>" and ends this process with
  /// kCommFailureExit after a short grace (other ranks print their lines).
  [[noreturn]] void end_job(const std::string &message) const;
  /// Ends this process now with `status`; the others see its connections
  /// close.
  [[noreturn]] static void exit_now(int status);
};

std::unique_ptr<Communicator> make_gloo_communicator(std::shared_ptr<GlooJob> job,
                                                     std::shared_ptr<gloo::Context> context,
                                                     std::vector<int> world_ranks,
                                                     const std::string &name,
                                                     const std::string &prefix);

} // namespace cleave::rt

#endif // CLEAVE_RT_COMM_GLOO_JOB_H
