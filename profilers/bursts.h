// Bursts: one measurement repeated apart in time, the fastest burst kept. A shared host has slow
// phases that last seconds to minutes; a burst that lands in one is slower as a whole, and its tight
// confidence interval does not show it (MEASURE.md: "a single burst cannot tell which mode it landed
// in"). So the same subject is measured again later, until the two fastest bursts agree.
#pragma once

#include <span>

namespace hwnas::prof {

inline constexpr double kBurstAgree = 0.03;  // the default tolerance: 3%, the cost model's ±10% needs it

struct BurstPolicy {
  int min_bursts = 1;          // always at least this many
  int max_bursts = 1;          // never more
  double agree = kBurstAgree;  // between min and max: another burst while the two fastest differ by more

  // A policy of at most `max` bursts, at least two of them where max allows it.
  static BurstPolicy up_to(int max, double agree = kBurstAgree);
};

// Whether the policy wants another burst after `bursts_us` (each burst's figure, in the order taken).
bool wants_another_burst(std::span<const double> bursts_us, const BurstPolicy& policy);
// Slowest / fastest − 1 over the bursts (0 for fewer than two).
double burst_spread(std::span<const double> bursts_us);

}  // namespace hwnas::prof
