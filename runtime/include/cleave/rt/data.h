//===- data.h - binding data files to the model's inputs, and batching -----===//
//
// A SampleSource turns files into samples: one row of every bound .npy
// array (--data NAME=FILE.npy), or one window of a token stream (--tokens
// FILE). A BatchIterator draws batch_size samples per step from an endless
// stream: epoch after epoch, each in file order or, with --shuffle, in the
// order epoch_permutation(n, seed, epoch) (rng.h). A batch that reaches the
// end of an epoch continues into the next one. The whole state is one
// number, the count of samples consumed, which is what checkpoints store.
//
//===----------------------------------------------------------------------===//
#ifndef CLEAVE_RT_DATA_H
#define CLEAVE_RT_DATA_H

#include "cleave/rt/model.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cleave::rt {

/// One `--data NAME=FILE.npy`.
struct DataBinding {
  std::string input; // a name in ModelInfo::inputs
  std::string path;  // a .npy file, dimension 0 = samples
};

/// Parses "NAME=FILE"; Error when there is no '=' or a side is empty.
DataBinding parse_data_binding(const std::string &text);

class SampleSource {
public:
  virtual ~SampleSource() = default;

  /// Samples in one epoch: rows of the arrays, or windows of the stream.
  virtual int64_t num_samples() const = 0;
  /// Token ids in one sample's context (T) for token streams, else 0.
  virtual int64_t tokens_per_sample() const = 0;
  /// Writes sample `sample` into row `row` of each input's batch buffer
  /// (host memory, one per ModelInfo::inputs entry, in that order).
  virtual void copy_sample(int64_t sample, int64_t row, void *const *batch) const = 0;
  /// What was bound, for logs and checkpoints: "x=a.npy, y=b.npy (100 rows)".
  virtual std::string describe() const = 0;
};

/// Binds every input of `model` to a .npy file. The array's dtype must be
/// the input's, or convert losslessly enough to be unambiguous: float
/// arrays into any float input (float64 -> float32 rounds), integer and
/// bool arrays into int8/int32/int64 inputs (values are range-checked),
/// bool arrays into bool inputs. Dimensions after the first must equal the
/// input's; every array needs the same number of rows, at least the batch
/// size. Errors name the input and the file, and `flag` (the option that
/// bound them).
std::unique_ptr<SampleSource> open_arrays(const ModelInfo &model,
                                          const std::vector<DataBinding> &bindings,
                                          const char *flag = "--data");

/// Binds a token stream (token_file.h) to a model with exactly two data
/// inputs, both int32 or int64 of the same shape [B, T]: the first gets the
/// context, the second the next-token labels. Window w holds ids
/// [w*T, w*T + T) as context and [w*T + 1, w*T + T + 1) as labels, so a
/// file of N ids has (N - 1) / T windows.
std::unique_ptr<SampleSource> open_token_stream(const ModelInfo &model, const std::string &path);

class BatchIterator {
public:
  BatchIterator(std::unique_ptr<SampleSource> source, int64_t batch_size, bool shuffle,
                uint64_t seed);

  /// Fills the next batch into `batch` (host buffers, ModelInfo::inputs
  /// order) and advances by batch_size samples.
  void next(void *const *batch);

  /// Samples consumed so far over all epochs.
  int64_t position() const { return position_; }
  void seek(int64_t position) { position_ = position; }

  const SampleSource &source() const { return *source_; }
  int64_t batch_size() const { return batch_size_; }

  /// The sample a stream position maps to.
  int64_t sample_at(int64_t position);

private:
  std::unique_ptr<SampleSource> source_;
  int64_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
  int64_t position_ = 0;
  int64_t order_epoch_ = -1;   // the epoch `order_` belongs to
  std::vector<int64_t> order_; // that epoch's permutation (shuffle only)
};

} // namespace cleave::rt

#endif // CLEAVE_RT_DATA_H
