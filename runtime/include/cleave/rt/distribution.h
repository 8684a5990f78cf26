//===- distribution.h - one training run spread over several ranks --------===//
//
// A program compiled with a device grid (cleavec --grid / --devices) runs
// the same step on every rank, each on its block of every tensor. The
// driver (train) stays one piece of code: where it touches whole tensors
// (initial weights, checkpoints, the ONNX export, each batch) it asks a
// Distribution for this rank's block of a full tensor, or to rebuild the
// full tensor from every rank's block. Checkpoints therefore always hold
// whole tensors, so a run resumes on a different number of ranks or under
// another plan.
//
// This header and its geometry live in cleave_rt_core (no MPI); the MPI
// implementation and the step's collectives are in cleave_rt_comm.
//
// Sharding strings (ModelInfo): one entry per dimension, comma-separated,
// each "-" (whole) or grid axis names joined by '*' (major first):
// "dp,-" splits the rows over dp; "tp*dp,-" splits them over tp, then
// each tp block over dp. The empty string is replicated.
//
// Pipeline stages. A string may start with "@<stages>:", a comma-separated
// list of coordinates on the grid axis "pp" (the pipeline program's rank
// stages): "@0,3:tp,-" is held by the ranks of stages 0 and 3 only, split
// over tp; "@1:" whole on stage 1. The other ranks hold nothing for it: 0
// bytes, extract() gives them nothing, and assemble() rebuilds the tensor
// from the ranks of the FIRST listed stage (the owner: a tied weight's
// other users hold copies of its value). Without '@', every rank holds its
// block, as before.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_DISTRIBUTION_H
#define CLEAVE_RT_DISTRIBUTION_H

#include "cleave/rt/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cleave::rt {

/// A parsed "dp=2,tp=2": row-major, the last axis varies fastest.
struct GridShape {
  std::vector<std::string> names;
  std::vector<int> sizes;

  /// Throws Error for a malformed grid.
  static GridShape parse(const std::string &text);
  int devices() const;
  std::vector<int> coordinates(int rank) const;
  int axis(const std::string &name) const; // throws Error for an unknown name
};

/// Per dimension, the grid axes it is split over (major first).
using DimAxes = std::vector<std::vector<int>>;

/// Parses a sharding string (without a stage list) for a tensor of `rank`
/// dimensions; throws Error naming the tensor when it does not fit the
/// grid or the rank.
DimAxes parse_sharding(const std::string &text, int rank, const GridShape &grid,
                       const std::string &tensor);

/// A whole sharding string: which pipeline stages hold the tensor, and how.
struct Placement {
  /// Coordinates on "pp" in the order listed; empty: every rank.
  std::vector<int> stages;
  DimAxes axes;

  /// Whether the device at `coordinates` holds a block of the tensor.
  bool holds(const GridShape &grid, const std::vector<int> &coordinates) const;
  /// Whether assemble() takes the block of the device at `coordinates`.
  bool assembles_from(const GridShape &grid, const std::vector<int> &coordinates) const;
};

/// parse_sharding of a string that may start with "@<stages>:". Throws
/// Error naming the tensor for a malformed list, a stage outside the pp
/// axis, a grid without a "pp" axis, or dimensions split over "pp".
Placement parse_placement(const std::string &text, int rank, const GridShape &grid,
                          const std::string &tensor);

/// The block of `spec` (global shape) a device at `coordinates` holds:
/// its shape and, per dimension, its offset. Throws Error when an axis
/// product does not divide a dimension.
struct Block {
  std::vector<int64_t> shape, offset;
};
Block block_of(const TensorSpec &spec, const DimAxes &axes, const GridShape &grid,
               const std::vector<int> &coordinates);

/// Copies the box `block` out of the full row-major tensor `full` into the
/// dense `local`, or back (`to_full`).
void copy_block(const std::vector<int64_t> &full_shape, const Block &block, int64_t element_bytes,
                const void *full, void *local, bool to_full);

class Distribution {
public:
  explicit Distribution(GridShape grid) : grid_(std::move(grid)) {}
  virtual ~Distribution() = default;

  const GridShape &grid() const { return grid_; }
  virtual int rank() const = 0;
  int size() const { return grid_.devices(); }

  /// This rank's block of the full host tensor `full` into host `local`
  /// (nothing, and `local` untouched, on a rank that does not hold it).
  void extract(const TensorSpec &spec, const char *sharding, const void *full, void *local) const;
  /// Collective: the full tensor, on every rank, from each rank's block
  /// (`local` is not read on a rank that does not hold it).
  void assemble(const TensorSpec &spec, const char *sharding, const void *local, void *full);
  /// The shape of this rank's block; every extent 0 on a rank that does
  /// not hold the tensor (see local_bytes for scalars).
  std::vector<int64_t> local_shape(const TensorSpec &spec, const char *sharding) const;
  /// Whether this rank holds a block of the tensor (its stage is listed).
  bool holds(const TensorSpec &spec, const char *sharding) const;
  /// The bytes of this rank's block; 0 on a rank that does not hold it.
  int64_t local_bytes(const TensorSpec &spec, const char *sharding) const;

  /// Collective: whether `flag` is set on any rank.
  virtual bool any(bool flag) = 0;
  /// Collective: every rank's `value`, in rank order.
  std::vector<double> all_gather(double value);
  /// Seconds this rank's step waited for pipeline receives since the last
  /// call (CommGroups::receive_wait_seconds); 0 where nothing waits.
  virtual double take_receive_wait_seconds() { return 0; }
  /// What the generated step needs for its collectives (StepBuffers::collectives).
  virtual void *step_context() = 0;
  /// Ends every rank now (after this rank printed its message).
  [[noreturn]] virtual void abort_job(int exit_status) = 0;

protected:
  /// Collective over all ranks: recv = every rank's `bytes` in rank order.
  virtual void all_gather_bytes(const void *send, void *recv, int64_t bytes) = 0;

private:
  GridShape grid_;
};

} // namespace cleave::rt

#endif // CLEAVE_RT_DISTRIBUTION_H
