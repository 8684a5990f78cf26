//===- grid.cpp - named grid axes and their communicators ------------------===//
//
// A plan's device grid is row-major over named axes (the last varies
// fastest between consecutive world ranks). The group of a set of axes is
// the ranks whose coordinates agree on every other axis; it is one split of
// the world with
//   color = row-major index of the coordinates on the other axes,
//   key   = row-major index of the coordinates on the group's axes,
// so group rank order is the grid's order restricted to those axes.
//
//===----------------------------------------------------------------------===//
#include "cleave/rt/check.h"
#include "cleave/rt/comm.h"

#include <climits>
#include <cstdlib>
#include <set>
#include <sstream>

namespace cleave::rt {
namespace {

/// Row-major index of `coordinates` restricted to the axes where
/// `in_mask(axis)` holds.
template <typename Pred>
int masked_index(const DeviceGrid &grid, const std::vector<int> &coordinates, Pred in_mask) {
  int index = 0;
  for (int axis = 0; axis < grid.num_axes(); ++axis)
    if (in_mask(axis))
      index = index * grid.axis_size(axis) + coordinates[axis];
  return index;
}

/// More axes than this would make CommGroups' up-front splits (2^axes)
/// a cost of its own; plans have a handful (dp, tp, pp, ...).
constexpr int kMaxAxes = 8;

} // namespace

DeviceGrid::DeviceGrid(std::vector<std::string> names, std::vector<int> sizes)
    : names_(std::move(names)), sizes_(std::move(sizes)) {
  if (names_.empty())
    fail("a device grid needs at least one axis");
  if (names_.size() != sizes_.size())
    fail("a device grid needs one size per axis (", names_.size(), " names, ", sizes_.size(),
         " sizes)");
  if (names_.size() > static_cast<size_t>(kMaxAxes))
    fail("a device grid has at most ", kMaxAxes, " axes, not ", names_.size());
  std::set<std::string> seen;
  int64_t devices = 1;
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i].empty())
      fail("device grid axis ", i, " has no name");
    if (!seen.insert(names_[i]).second)
      fail("device grid axis '", names_[i], "' appears twice");
    if (sizes_[i] < 1)
      fail("device grid axis '", names_[i], "' has size ", sizes_[i], " (must be at least 1)");
    devices *= sizes_[i];
    if (devices > INT_MAX)
      fail("device grid ", to_string(), " has too many devices");
  }
}

DeviceGrid DeviceGrid::parse(const std::string &text) {
  std::vector<std::string> names;
  std::vector<int> sizes;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    const std::string item = text.substr(start, end - start);
    const size_t eq = item.find('=');
    char *stop = nullptr;
    const long size = eq == std::string::npos ? 0 : std::strtol(item.c_str() + eq + 1, &stop, 10);
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size() || *stop != '\0' || size < 1 ||
        size > INT_MAX)
      fail("grid '", text, "': '", item, "' is not AXIS=SIZE (e.g. dp=2,tp=2)");
    names.push_back(item.substr(0, eq));
    sizes.push_back(static_cast<int>(size));
    start = end + 1;
  }
  return DeviceGrid(std::move(names), std::move(sizes));
}

int DeviceGrid::num_devices() const {
  int devices = 1;
  for (int size : sizes_)
    devices *= size;
  return devices;
}

int DeviceGrid::axis_index(const std::string &name) const {
  for (int axis = 0; axis < num_axes(); ++axis)
    if (names_[axis] == name)
      return axis;
  fail("the device grid ", to_string(), " has no axis '", name, "'");
}

std::vector<int> DeviceGrid::coordinates(int rank) const {
  CLEAVE_CHECK(rank >= 0 && rank < num_devices(), "rank ", rank, " outside grid ", to_string());
  std::vector<int> coordinates(names_.size());
  for (int axis = num_axes() - 1; axis >= 0; --axis) {
    coordinates[axis] = rank % sizes_[axis];
    rank /= sizes_[axis];
  }
  return coordinates;
}

int DeviceGrid::rank_of(const std::vector<int> &coordinates) const {
  CLEAVE_CHECK(coordinates.size() == names_.size(), "coordinates for another grid");
  int rank = 0;
  for (int axis = 0; axis < num_axes(); ++axis) {
    CLEAVE_CHECK(coordinates[axis] >= 0 && coordinates[axis] < sizes_[axis],
                 "coordinate outside grid ", to_string());
    rank = rank * sizes_[axis] + coordinates[axis];
  }
  return rank;
}

std::string DeviceGrid::to_string() const {
  std::string text;
  for (size_t i = 0; i < names_.size(); ++i)
    text += (i ? "," : "") + names_[i] + "=" + std::to_string(sizes_[i]);
  return text;
}

CommGroups::CommGroups(Communicator &world, DeviceGrid grid)
    : world_(world), grid_(std::move(grid)) {
  if (grid_.num_devices() != world_.size())
    fail("the device grid ", grid_.to_string(), " has ", grid_.num_devices(), " devices, but ",
         world_.size(), world_.size() == 1 ? " rank was" : " ranks were", " launched");
  const unsigned full = (1u << grid_.num_axes()) - 1;
  groups_.resize(full + 1);
  const std::vector<int> mine = grid_.coordinates(world_.rank());
  // Every rank walks the masks in the same order: each split is collective.
  for (unsigned mask = 1; mask < full; ++mask) {
    auto in = [mask](int axis) { return (mask >> axis & 1u) != 0; };
    auto out = [mask](int axis) { return (mask >> axis & 1u) == 0; };
    std::string name;
    for (int axis = 0; axis < grid_.num_axes(); ++axis)
      if (in(axis))
        name += (name.empty() ? "" : ",") + grid_.axis_name(axis);
    groups_[mask] =
        world_.split(masked_index(grid_, mine, out), masked_index(grid_, mine, in), name);
  }
  // Pipeline transfers run over the "pp" axis (docs/pipeline.md); only its
  // group pays for their setup (NCCL: two more communicators).
  for (int axis = 0; axis < grid_.num_axes(); ++axis)
    if (grid_.axis_name(axis) == kPipelineAxis)
      this->axis(kPipelineAxis).prepare_transfers();
}

CommGroups::~CommGroups() = default;

Communicator &CommGroups::axis(const std::string &axis) { return axes({axis}); }

Communicator &CommGroups::axes(const std::vector<std::string> &axes) {
  unsigned mask = 0;
  for (const std::string &name : axes)
    mask |= 1u << grid_.axis_index(name);
  if (mask == 0)
    fail("a communicator group needs at least one grid axis");
  if (mask == groups_.size() - 1)
    return world_;
  return *groups_[mask];
}

Communicator &CommGroups::group(const std::string &axes) {
  std::vector<std::string> names;
  std::string name;
  std::istringstream stream(axes);
  while (std::getline(stream, name, ','))
    names.push_back(name);
  return this->axes(names);
}

} // namespace cleave::rt
