//===- distribution.cpp - block geometry of sharded tensors ---------------===//
#include "cleave/rt/distribution.h"

#include "cleave/rt/check.h"
#include "cleave/rt/tensor.h"

#include <cstdlib>
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

Placement parse_placement(const std::string &text, int rank, const GridShape &grid,
                          const std::string &tensor) {
  Placement placement;
  if (text.empty() || text[0] != '@') {
    placement.axes = parse_sharding(text, rank, grid, tensor);
    return placement;
  }
  auto bad = [&](const std::string &why) {
    fail("sharding '", text, "' of '", tensor, "' ", why,
         " (expected \"@<stages>:<dims>\", e.g. \"@0,3:tp,-\" or \"@1:\")");
  };
  size_t colon = text.find(':');
  if (colon == std::string::npos)
    bad("has a stage list without the ':' that ends it");
  std::string list = text.substr(1, colon - 1);
  if (list.empty())
    bad("has an empty stage list");
  int pp = -1;
  for (size_t i = 0; i < grid.names.size(); ++i)
    if (grid.names[i] == "pp")
      pp = static_cast<int>(i);
  if (pp < 0) {
    std::string names;
    for (size_t i = 0; i < grid.names.size(); ++i)
      names += (i ? "," : "") + grid.names[i] + "=" + std::to_string(grid.sizes[i]);
    fail("sharding '", text, "' of '", tensor, "' lists pipeline stages, but the grid ", names,
         " has no 'pp' axis; recompile with --grid pp=S,...");
  }
  int stages = grid.sizes[static_cast<size_t>(pp)];
  for (const std::string &item : split(list, ',')) {
    bool digits = !item.empty() && item.size() <= 9 &&
                  item.find_first_not_of("0123456789") == std::string::npos;
    if (!digits)
      bad("has '" + item + "' in its stage list, not a stage number");
    int stage = std::atoi(item.c_str());
    if (stage >= stages)
      fail("sharding '", text, "' of '", tensor, "' lists stage ", stage,
           ", but the grid's pp axis has ", stages, " stages (0..", stages - 1,
           "); the program and the grid disagree: recompile it");
    for (int seen : placement.stages)
      if (seen == stage)
        bad("lists stage " + item + " twice");
    placement.stages.push_back(stage);
  }
  std::string dims = text.substr(colon + 1);
  if (!dims.empty() && dims[0] == '@')
    bad("has two stage lists");
  placement.axes = parse_sharding(dims, rank, grid, tensor);
  for (const std::vector<int> &axes : placement.axes)
    for (int axis : axes)
      if (axis == pp)
        bad("splits a dimension over 'pp', the axis its stage list already places it on");
  return placement;
}

bool Placement::holds(const GridShape &grid, const std::vector<int> &coordinates) const {
  if (stages.empty())
    return true;
  int stage = coordinates[static_cast<size_t>(grid.axis("pp"))];
  for (int listed : stages)
    if (listed == stage)
      return true;
  return false;
}

bool Placement::assembles_from(const GridShape &grid, const std::vector<int> &coordinates) const {
  return stages.empty() || coordinates[static_cast<size_t>(grid.axis("pp"))] == stages.front();
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
  Placement placement = parse_placement(sharding ? sharding : "", spec.rank, grid_, spec.name);
  std::vector<int> coordinates = grid_.coordinates(rank());
  std::vector<int64_t> shape = block_of(spec, placement.axes, grid_, coordinates).shape;
  if (!placement.holds(grid_, coordinates))
    shape.assign(shape.size(), 0);
  return shape;
}

bool Distribution::holds(const TensorSpec &spec, const char *sharding) const {
  return parse_placement(sharding ? sharding : "", spec.rank, grid_, spec.name)
      .holds(grid_, grid_.coordinates(rank()));
}

int64_t Distribution::local_bytes(const TensorSpec &spec, const char *sharding) const {
  Placement placement = parse_placement(sharding ? sharding : "", spec.rank, grid_, spec.name);
  std::vector<int> coordinates = grid_.coordinates(rank());
  if (!placement.holds(grid_, coordinates))
    return 0;
  return num_elements(block_of(spec, placement.axes, grid_, coordinates).shape) *
         dtype_bytes(spec.dtype);
}

std::vector<double> Distribution::all_gather(double value) {
  std::vector<double> values(static_cast<size_t>(size()));
  all_gather_bytes(&value, values.data(), sizeof value);
  return values;
}

void Distribution::extract(const TensorSpec &spec, const char *sharding, const void *full,
                           void *local) const {
  Placement placement = parse_placement(sharding ? sharding : "", spec.rank, grid_, spec.name);
  std::vector<int> coordinates = grid_.coordinates(rank());
  if (!placement.holds(grid_, coordinates))
    return;
  Block block = block_of(spec, placement.axes, grid_, coordinates);
  copy_block(shape_of(spec), block, dtype_bytes(spec.dtype), full, local, false);
}

void Distribution::assemble(const TensorSpec &spec, const char *sharding, const void *local,
                            void *full) {
  Placement placement = parse_placement(sharding ? sharding : "", spec.rank, grid_, spec.name);
  std::vector<int> coordinates = grid_.coordinates(rank());
  // Every block has the holders' shape; a rank that holds nothing sends
  // as many zero bytes, so that one all_gather of equal parts serves.
  Block mine = block_of(spec, placement.axes, grid_, coordinates);
  int64_t element = dtype_bytes(spec.dtype);
  int64_t block_bytes = num_elements(mine.shape) * element;
  std::vector<uint8_t> nothing;
  if (!placement.holds(grid_, coordinates)) {
    nothing.resize(static_cast<size_t>(block_bytes));
    local = nothing.data();
  }
  std::vector<uint8_t> blocks(static_cast<size_t>(block_bytes * size()));
  all_gather_bytes(local, blocks.data(), block_bytes);
  std::vector<int64_t> shape = shape_of(spec);
  for (int r = 0; r < size(); ++r) {
    std::vector<int> theirs = grid_.coordinates(r);
    if (!placement.assembles_from(grid_, theirs))
      continue;
    Block block = block_of(spec, placement.axes, grid_, theirs);
    copy_block(shape, block, element, full, blocks.data() + r * block_bytes, true);
  }
}

} // namespace cleave::rt
