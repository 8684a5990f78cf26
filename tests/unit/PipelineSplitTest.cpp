// The balance of cleave-pipeline-split (passes/Pipeline/SplitCuts.h): the
// dynamic program over layer boundaries finds the split a brute-force
// search over every choice of boundaries finds (the slowest chunk, then the
// bytes crossing the cuts), for layer counts that do and do not divide the
// chunks.
#include "passes/Pipeline/SplitCuts.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

using namespace mlir::cleave;

namespace {

struct Outcome {
  double slowest = 0;
  int64_t bytes = 0;
};

Outcome score(const CutProfile &profile, const std::vector<int64_t> &starts) {
  int64_t n = profile.forwardSeconds.size();
  Outcome outcome;
  for (size_t c = 0; c < starts.size(); ++c) {
    int64_t end = c + 1 < starts.size() ? starts[c + 1] : n;
    double seconds = 0;
    for (int64_t p = starts[c]; p < end; ++p)
      seconds += profile.forwardSeconds[p] + profile.backwardSeconds[p];
    outcome.slowest = std::max(outcome.slowest, seconds);
    if (c > 0)
      outcome.bytes += profile.crossingBytes[starts[c]];
  }
  return outcome;
}

/// The best split by trying every choice of chunks - 1 boundaries.
Outcome bruteForce(const CutProfile &profile, int64_t chunks) {
  Outcome best{INFINITY, 0};
  std::vector<int64_t> starts = {0};
  std::function<void(size_t)> choose = [&](size_t next) {
    if (static_cast<int64_t>(starts.size()) == chunks) {
      Outcome outcome = score(profile, starts);
      if (outcome.slowest < best.slowest - 1e-12 ||
          (std::abs(outcome.slowest - best.slowest) <= 1e-12 && outcome.bytes < best.bytes))
        best = outcome;
      return;
    }
    for (size_t i = next; i < profile.candidates.size(); ++i) {
      starts.push_back(profile.candidates[i]);
      choose(i + 1);
      starts.pop_back();
    }
  };
  choose(0);
  return best;
}

/// `layers` layers of `opsPerLayer` forward positions each, a boundary
/// between consecutive layers.
CutProfile layeredProfile(const std::vector<double> &layerSeconds, int opsPerLayer,
                          const std::vector<int64_t> &boundaryBytes) {
  CutProfile profile;
  int64_t n = layerSeconds.size() * opsPerLayer;
  profile.forwardSeconds.assign(n, 0.0);
  profile.backwardSeconds.assign(n, 0.0);
  profile.crossingBytes.assign(n + 1, 0);
  profile.crossingCount.assign(n + 1, 1);
  for (size_t layer = 0; layer < layerSeconds.size(); ++layer)
    for (int op = 0; op < opsPerLayer; ++op) {
      // A third forward, two thirds backward, as a matmul's.
      profile.forwardSeconds[layer * opsPerLayer + op] = layerSeconds[layer] / opsPerLayer / 3;
      profile.backwardSeconds[layer * opsPerLayer + op] = 2 * layerSeconds[layer] / opsPerLayer / 3;
    }
  for (size_t layer = 1; layer < layerSeconds.size(); ++layer) {
    profile.candidates.push_back(layer * opsPerLayer);
    profile.crossingBytes[layer * opsPerLayer] = boundaryBytes[layer - 1];
  }
  return profile;
}

} // namespace

TEST_CASE("balanceCuts puts 5 equal layers on 2 stages as 3 + 2 or 2 + 3", "[pipeline-split]") {
  CutProfile profile = layeredProfile({1, 1, 1, 1, 1}, 3, {100, 100, 50, 100});
  std::vector<int64_t> starts = balanceCuts(profile, 2);
  REQUIRE(starts.size() == 2);
  CHECK(starts[0] == 0);
  // Both splits take 3 layers' time; the boundary after layer 3 carries
  // fewer bytes (50), so the tie goes to 3 + 2.
  CHECK(starts[1] == 9);
  CHECK(score(profile, starts).slowest == Approx(3.0));
}

TEST_CASE("balanceCuts gives the heavy layer a chunk of its own", "[pipeline-split]") {
  CutProfile profile = layeredProfile({1, 1, 6, 1, 1, 1}, 2, {8, 8, 8, 8, 8});
  std::vector<int64_t> starts = balanceCuts(profile, 3);
  CHECK(starts == std::vector<int64_t>{0, 4, 6});
  CHECK(score(profile, starts).slowest == Approx(6.0));
}

TEST_CASE("balanceCuts with as many chunks as layers cuts at every boundary", "[pipeline-split]") {
  CutProfile profile = layeredProfile({3, 1, 2, 5}, 1, {1, 1, 1});
  CHECK(balanceCuts(profile, 4) == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(balanceCuts(profile, 1) == std::vector<int64_t>{0});
}

TEST_CASE("balanceCuts matches a brute-force search", "[pipeline-split]") {
  std::mt19937 random(1234);
  std::uniform_real_distribution<double> seconds(0.1, 3.0);
  std::uniform_int_distribution<int64_t> bytes(1, 5);
  std::uniform_int_distribution<int> opsPerLayer(1, 3);
  for (int trial = 0; trial < 200; ++trial) {
    int layers = 2 + trial % 9;
    std::vector<double> layerSeconds;
    std::vector<int64_t> boundaryBytes;
    for (int l = 0; l < layers; ++l) {
      // Some equal layers, so that ties reach the bytes.
      layerSeconds.push_back(trial % 3 == 0 ? 1.0 : seconds(random));
      boundaryBytes.push_back(bytes(random));
    }
    CutProfile profile = layeredProfile(layerSeconds, opsPerLayer(random), boundaryBytes);
    for (int64_t chunks = 1; chunks <= layers; ++chunks) {
      INFO("trial " << trial << ", " << layers << " layers, " << chunks << " chunks");
      std::vector<int64_t> starts = balanceCuts(profile, chunks);
      REQUIRE(static_cast<int64_t>(starts.size()) == chunks);
      REQUIRE(std::is_sorted(starts.begin(), starts.end()));
      Outcome got = score(profile, starts);
      Outcome best = bruteForce(profile, chunks);
      CHECK(got.slowest == Approx(best.slowest).epsilon(1e-9));
      if (std::abs(got.slowest - best.slowest) <= 1e-9 * best.slowest)
        CHECK(got.bytes == best.bytes);
    }
  }
}
