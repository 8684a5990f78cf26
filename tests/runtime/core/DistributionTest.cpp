//===- DistributionTest.cpp - sharding strings with pipeline stage lists ---===//
//
// parse/extract/assemble of "@<stages>:<dims>" (distribution.h) on the grid
// pp=2,dp=2 over 4 ranks (threads, ThreadDistribution.h): rank r has
// pp = r / 2, dp = r % 2 (pp is the slowest axis).
//
//===----------------------------------------------------------------------===//
#include "ThreadDistribution.h"
#include "stage_timing.h"

#include "cleave/rt/distribution.h"
#include "cleave/rt/tensor.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <mutex>

using namespace cleave::rt;
using Catch::Matchers::Contains;

namespace {

const int64_t kMatrix[] = {4, 2};
const TensorSpec kW{"w", DType::f32, 2, kMatrix};
const TensorSpec kScalar{"s", DType::f32, 0, nullptr};

GridShape pp2dp2() { return GridShape::parse("pp=2,dp=2"); }

std::vector<float> iota(size_t n) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = static_cast<float>(i);
  return values;
}

} // namespace

TEST_CASE("distribution: stage lists parse", "[runtime][distribution]") {
  GridShape grid = pp2dp2();
  Placement plain = parse_placement("dp,-", 2, grid, "w");
  CHECK(plain.stages.empty());
  CHECK(plain.axes == DimAxes{{1}, {}});
  Placement both = parse_placement("@1,0:-,dp", 2, grid, "w");
  CHECK(both.stages == std::vector<int>{1, 0});
  CHECK(both.axes == DimAxes{{}, {1}});
  Placement whole = parse_placement("@1:", 2, grid, "w");
  CHECK(whole.stages == std::vector<int>{1});
  CHECK(whole.axes == DimAxes{{}, {}});
  CHECK(parse_placement("@0:", 0, grid, "s").stages == std::vector<int>{0});

  for (int r = 0; r < 4; ++r) {
    std::vector<int> at = grid.coordinates(r);
    CHECK(plain.holds(grid, at));
    CHECK(both.holds(grid, at));
    CHECK(whole.holds(grid, at) == (r >= 2));
    CHECK(both.assembles_from(grid, at) == (r >= 2)); // the first listed stage, 1
  }
}

TEST_CASE("distribution: malformed stage lists are refused, naming the tensor",
          "[runtime][distribution]") {
  GridShape grid = pp2dp2();
  auto refuse = [&](const std::string &text, const std::string &why, int rank = 2) {
    REQUIRE_THROWS_WITH(parse_placement(text, rank, grid, "layer.w"),
                        Contains("sharding '" + text + "' of 'layer.w'") && Contains(why));
  };
  refuse("@0", "has a stage list without the ':' that ends it");
  refuse("@0dp,-", "without the ':'");
  refuse("@:dp,-", "has an empty stage list");
  refuse("@a:dp,-", "has 'a' in its stage list, not a stage number");
  refuse("@0,:dp,-", "has '' in its stage list");
  refuse("@-1:dp,-", "has '-1' in its stage list");
  refuse("@0,0:dp,-", "lists stage 0 twice");
  refuse("@2:dp,-", "lists stage 2, but the grid's pp axis has 2 stages (0..1)");
  refuse("@0:@1:dp,-", "has two stage lists");
  refuse("@0:pp,-", "splits a dimension over 'pp'");
  REQUIRE_THROWS_WITH(parse_placement("@0:", 2, GridShape::parse("dp=2,tp=2"), "layer.w"),
                      Contains("sharding '@0:' of 'layer.w' lists pipeline stages, but the grid "
                               "dp=2,tp=2 has no 'pp' axis"));
  // A bad list fails through every Distribution entry point.
  test::on_ranks("pp=2,dp=2", [](Distribution &d) {
    CHECK_THROWS_WITH(d.local_shape(kW, "@5:-,-"), Contains("lists stage 5"));
  });
}

TEST_CASE("distribution: ranks outside the stage list hold nothing", "[runtime][distribution]") {
  std::mutex lock;
  std::vector<std::vector<int64_t>> shapes(4);
  std::vector<int64_t> bytes(4), scalar_bytes(4), plain_bytes(4);
  test::on_ranks("pp=2,dp=2", [&](Distribution &d) {
    std::lock_guard<std::mutex> guard(lock);
    auto r = static_cast<size_t>(d.rank());
    shapes[r] = d.local_shape(kW, "@1:dp,-");
    bytes[r] = d.local_bytes(kW, "@1:dp,-");
    scalar_bytes[r] = d.local_bytes(kScalar, "@0:");
    plain_bytes[r] = d.local_bytes(kW, "dp,-");
  });
  CHECK(shapes == std::vector<std::vector<int64_t>>{{0, 0}, {0, 0}, {2, 2}, {2, 2}});
  CHECK(bytes == std::vector<int64_t>{0, 0, 16, 16});
  CHECK(scalar_bytes == std::vector<int64_t>{4, 4, 0, 0});
  CHECK(plain_bytes == std::vector<int64_t>{16, 16, 16, 16}); // no '@': as before
}

TEST_CASE("distribution: extract and assemble with stage lists on pp=2,dp=2",
          "[runtime][distribution]") {
  const std::vector<float> full = iota(8);
  const float kUntouched = -7.0f;
  struct Case {
    const char *sharding;
    std::vector<bool> holds; // per rank
  };
  for (const Case &c :
       {Case{"@0:dp,-", {true, true, false, false}}, Case{"@1:-,-", {false, false, true, true}},
        Case{"@1,0:-,dp", {true, true, true, true}}, Case{"@0,1:", {true, true, true, true}},
        Case{"dp,-", {true, true, true, true}}}) {
    DYNAMIC_SECTION(c.sharding) {
      std::mutex lock;
      std::vector<std::vector<float>> locals(4), assembled(4);
      std::vector<bool> touched(4), holds(4);
      test::on_ranks("pp=2,dp=2", [&](Distribution &d) {
        auto r = static_cast<size_t>(d.rank());
        int64_t local_bytes = d.local_bytes(kW, c.sharding);
        // A buffer of the holders' size, so that a write on a rank that
        // holds nothing would show.
        std::vector<float> local(8, kUntouched);
        d.extract(kW, c.sharding, full.data(), local.data());
        std::vector<float> kept(local.begin(), local.begin() + local_bytes / 4);
        bool wrote = false;
        for (size_t i = static_cast<size_t>(local_bytes / 4); i < local.size(); ++i)
          wrote |= local[i] != kUntouched;
        // The non-first stages of a shared tensor hold stale copies here:
        // assemble must not read them.
        std::vector<float> block = kept;
        Placement placement = parse_placement(c.sharding, 2, d.grid(), "w");
        if (!placement.assembles_from(d.grid(), d.grid().coordinates(d.rank())))
          for (float &value : block)
            value = NAN;
        std::vector<float> whole(8, 0.0f);
        d.assemble(kW, c.sharding, block.empty() ? nullptr : block.data(), whole.data());
        std::lock_guard<std::mutex> guard(lock);
        locals[r] = kept;
        assembled[r] = whole;
        touched[r] = wrote;
        holds[r] = d.holds(kW, c.sharding);
      });
      for (size_t r = 0; r < 4; ++r) {
        INFO("rank " << r);
        CHECK(holds[r] == c.holds[r]);
        CHECK_FALSE(touched[r]);
        CHECK(locals[r].empty() == !c.holds[r]);
        CHECK(assembled[r] == full); // every rank gets the whole tensor
      }
      if (std::string(c.sharding) == "@0:dp,-") {
        CHECK(locals[0] == std::vector<float>{0, 1, 2, 3}); // rows 0-1
        CHECK(locals[1] == std::vector<float>{4, 5, 6, 7}); // rows 2-3
      }
      if (std::string(c.sharding) == "@1,0:-,dp") {
        CHECK(locals[0] == std::vector<float>{0, 2, 4, 6}); // column 0 (dp 0)
        CHECK(locals[2] == std::vector<float>{0, 2, 4, 6});
        CHECK(locals[3] == std::vector<float>{1, 3, 5, 7});
      }
    }
  }
}

TEST_CASE("distribution: each pipeline stage's busy time, gathered once per report",
          "[runtime][distribution]") {
  std::mutex lock;
  std::vector<std::vector<double>> reports(4);
  test::on_ranks("pp=2,dp=2", [&](test::ThreadDistribution &d) {
    StageTiming timing(&d);
    auto *context = static_cast<test::ThreadStepContext *>(d.step_context());
    // Two 10 ms steps; stage 0 waits 1 ms a step on dp 0 and 3 ms on dp 1,
    // stage 1 waits 6 ms a step (its ranks' busy 4 ms; stage 0's 8 ms).
    int stage = d.rank() / 2, dp = d.rank() % 2;
    for (int step = 0; step < 2; ++step) {
      context->receive_wait_seconds = stage == 0 ? (dp == 0 ? 0.001 : 0.003) : 0.006;
      timing.add_step(10.0);
    }
    std::vector<double> first = timing.report();
    // A new window: one step without waiting.
    timing.add_step(5.0);
    std::vector<double> second = timing.report();
    std::lock_guard<std::mutex> guard(lock);
    reports[static_cast<size_t>(d.rank())] = first;
    reports[static_cast<size_t>(d.rank())].insert(reports[static_cast<size_t>(d.rank())].end(),
                                                  second.begin(), second.end());
  });
  for (const std::vector<double> &report : reports) {
    REQUIRE(report.size() == 4);
    CHECK(report[0] == Approx(8.0));
    CHECK(report[1] == Approx(4.0));
    CHECK(report[2] == Approx(5.0));
    CHECK(report[3] == Approx(5.0));
  }
  // Without a pp axis (or a grid), nothing is measured or gathered.
  std::vector<bool> active(2, true);
  test::on_ranks("dp=2", [&](test::ThreadDistribution &d) {
    StageTiming timing(&d);
    std::lock_guard<std::mutex> guard(lock);
    active[static_cast<size_t>(d.rank())] = timing.active();
  });
  CHECK(active == std::vector<bool>{false, false});
  CHECK(StageTiming(nullptr).report().empty());
}
