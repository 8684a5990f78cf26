//===- distribution.cpp - block geometry of sharded tensors ---------------===//
#include "cleave/rt/distribution.h"

#include "cleave/rt/check.h"
#include "cleave/rt/tensor.h"

#include <cstring>
#include <sstream>

namespace cleave::rt {

static std::vector<std::string> split(const std::string &text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream stream(text);
  while (std::getline(stream, part, separator))
    parts.push_back(part);
  if (!text.empty() && text.back() == separator)
    parts.push_back("");
  return parts;
}

GridShape GridShape::parse(const std::string &text) {
  GridShape grid;
  for (const std::string &part : split(text, ',')) {
    size_t equals = part.find('=');
    CLEAVE_CHECK(equals != std::string::npos && equals > 0, "malformed grid '", text, "'");
    std::string name = part.substr(0, equals);
    int size = std::atoi(part.c_str() + equals + 1);
    CLEAVE_CHECK(size >= 1, "malformed grid '", text, "'");
    grid.names.push_back(name);
    grid.sizes.push_back(size);
  }
  CLEAVE_CHECK(!grid.names.empty(), "empty grid");
  return grid;
}

int GridShape::devices() const {
  int count = 1;
  for (int size : sizes)
    count *= size;
  return count;
}

std::vector<int> GridShape::coordinates(int rank) const {
  std::vector<int> coordinates(sizes.size());
  for (size_t axis = sizes.size(); axis-- > 0;) {
    coordinates[axis] = rank % sizes[axis];
    rank /= sizes[axis];
  }
  return coordinates;
}

int GridShape::axis(const std::string &name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name)
      return static_cast<int>(i);
  fail("'", name, "' is not an axis of the device grid");
}

DimAxes parse_sharding(const std::string &text, int rank, const GridShape &grid,
                       const std::string &tensor) {
  DimAxes axes(static_cast<size_t>(rank));
  if (text.empty())
    return axes;
  std::vector<std::string> dims = split(text, ',');
  CLEAVE_CHECK(static_cast<int>(dims.size()) == rank, "sharding '", text, "' of '", tensor,
               "' does not have one entry per dimension (", rank, ")");
  for (int d = 0; d < rank; ++d) {
    if (dims[d] == "-")
      continue;
    for (const std::string &name : split(dims[d], '*'))
      axes[d].push_back(grid.axis(name));
  }
  return axes;
}

Block block_of(const TensorSpec &spec, const DimAxes &axes, const GridShape &grid,
               const std::vector<int> &coordinates) {
  Block block;
  for (int d = 0; d < spec.rank; ++d) {
    int64_t parts = 1, index = 0;
    for (int axis : axes[d]) {
      parts *= grid.sizes[axis];
      index = index * grid.sizes[axis] + coordinates[axis];
    }
    CLEAVE_CHECK(spec.shape[d] % parts == 0, "dimension ", d, " of '", spec.name, "' (",
                 spec.shape[d], ") does not split into ", parts, " blocks");
    int64_t size = spec.shape[d] / parts;
    block.shape.push_back(size);
    block.offset.push_back(index * size);
  }
  return block;
}

void copy_block(const std::vector<int64_t> &full_shape, const Block &block, int64_t element_bytes,
                const void *full, void *local, bool to_full) {
  size_t rank = full_shape.size();
  if (rank == 0) {
    if (to_full)
      std::memcpy(const_cast<void *>(full), local, static_cast<size_t>(element_bytes));
    else
      std::memcpy(local, full, static_cast<size_t>(element_bytes));
    return;
  }
  // Rows of the innermost dimension are contiguous in both layouts.
  std::vector<int64_t> full_strides(rank, 1);
  for (size_t d = rank - 1; d-- > 0;)
    full_strides[d] = full_strides[d + 1] * full_shape[d + 1];
  int64_t row_bytes = block.shape[rank - 1] * element_bytes;
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < rank; ++d)
    rows *= block.shape[d];
  std::vector<int64_t> index(rank, 0);
  auto *full_bytes = static_cast<const uint8_t *>(full);
  auto *local_bytes = static_cast<uint8_t *>(local);
  for (int64_t row = 0; row < rows; ++row) {
    int64_t offset = block.offset[rank - 1];
    for (size_t d = 0; d + 1 < rank; ++d)
      offset += (block.offset[d] + index[d]) * full_strides[d];
    uint8_t *local_row = local_bytes + row * row_bytes;
    const uint8_t *full_row = full_bytes + offset * element_bytes;
    if (to_full)
      std::memcpy(const_cast<uint8_t *>(full_row), local_row, static_cast<size_t>(row_bytes));
    else
      std::memcpy(local_row, full_row, static_cast<size_t>(row_bytes));
    for (size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < block.shape[d])
        break;
      index[d] = 0;
    }
  }
}

std::vector<int64_t> Distribution::local_shape(const TensorSpec &spec, const char *sharding) const {
  DimAxes axes = parse_sharding(sharding ? sharding : "", spec.rank, grid_, spec.name);
  return block_of(spec, axes, grid_, grid_.coordinates(rank())).shape;
}

void Distribution::extract(const TensorSpec &spec, const char *sharding, const void *full,
                           void *local) const {
  DimAxes axes = parse_sharding(sharding ? sharding : "", spec.rank, grid_, spec.name);
  Block block = block_of(spec, axes, grid_, grid_.coordinates(rank()));
  copy_block(shape_of(spec), block, dtype_bytes(spec.dtype), full, local, false);
}

void Distribution::assemble(const TensorSpec &spec, const char *sharding, const void *local,
                            void *full) {
  DimAxes axes = parse_sharding(sharding ? sharding : "", spec.rank, grid_, spec.name);
  Block mine = block_of(spec, axes, grid_, grid_.coordinates(rank()));
  int64_t element = dtype_bytes(spec.dtype);
  int64_t block_bytes = num_elements(mine.shape) * element;
  std::vector<uint8_t> blocks(static_cast<size_t>(block_bytes * size()));
  all_gather_bytes(local, blocks.data(), block_bytes);
  std::vector<int64_t> shape = shape_of(spec);
  for (int r = 0; r < size(); ++r) {
    Block block = block_of(spec, axes, grid_, grid_.coordinates(r));
    copy_block(shape, block, element, full, blocks.data() + r * block_bytes, true);
  }
}

} // namespace cleave::rt
