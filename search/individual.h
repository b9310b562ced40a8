// What the search knows of one candidate, and the objective view of it: latency (ms, minimised,
// under a budget) on each target device and an accuracy score (maximised). Shared by the
// strategies, the Pareto tools and the driver. A search targets one device, or up to kMaxDevices at
// once (each with its own budget): then every device's latency is an objective of its own.
#pragma once

#include <array>
#include <cstddef>
#include <limits>
#include <string>

#include "space/search_space.h"

namespace hwnas::search {

inline constexpr std::size_t kMaxDevices = 4;

// One point in objective space: latencies are minimised, the score maximised. `{latency, score}`
// is a one-device point.
struct Point {
  double latency_ms = 0;  // on the first device
  double score = 0;
  std::array<double, kMaxDevices - 1> more_ms{};  // on devices 1 .. devices-1
  std::size_t devices = 1;

  double latency(std::size_t d) const { return d == 0 ? latency_ms : more_ms[d - 1]; }
  void set_latency(std::size_t d, double ms) { (d == 0 ? latency_ms : more_ms[d - 1]) = ms; }
};

struct Individual {
  space::Genome genome;   // repaired (decoding it gives the arch)
  std::string hash;       // space::hash_hex(space::arch_hash(arch))
  double latency_ms = 0;  // what the search believes: measured if measured, else predicted × (1 + margin)
  std::array<double, kMaxDevices - 1> more_ms{};  // the same on devices 1 .. devices-1
  std::size_t devices = 1;
  double score = 0;       // accuracy estimate; meaningful only when `scored`
  bool scored = false;    // false: not estimated (predicted far over budget) or the estimator failed
  bool measured = false;  // the latencies are measurements on the devices
  // How far from feasible: 0 when within budget and scored; the excess over the budget (ms) when
  // over it; kUnscored when within budget but without a score. Strategies rank by it first
  // (constrained domination, Deb 2000): feasible before infeasible, smaller violation first. With
  // several devices: the first device's excess plus the others' relative excesses in units of the
  // first device's budget (so devices with budgets of 40 ms and 2 ms weigh alike).
  double violation_ms = 0;

  static constexpr double kUnscored = 1e12;
  bool feasible() const { return violation_ms == 0 && scored; }
  Point point() const { return {latency_ms, score, more_ms, devices}; }
};

}  // namespace hwnas::search
