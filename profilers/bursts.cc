#include "profilers/bursts.h"

#include <algorithm>
#include <limits>

namespace hwnas::prof {

BurstPolicy BurstPolicy::up_to(int max, double agree) {
  BurstPolicy p;
  p.max_bursts = std::max(1, max);
  p.min_bursts = std::min(2, p.max_bursts);
  p.agree = agree;
  return p;
}

bool wants_another_burst(std::span<const double> bursts_us, const BurstPolicy& policy) {
  const auto n = static_cast<int>(bursts_us.size());
  if (n >= policy.max_bursts) return false;
  if (n < std::max(1, policy.min_bursts)) return true;
  if (n < 2) return false;
  // The two fastest: the slower of them against the fastest.
  double first = std::numeric_limits<double>::infinity(), second = first;
  for (const double b : bursts_us) {
    if (b < first) {
      second = first;
      first = b;
    } else if (b < second) {
      second = b;
    }
  }
  return !(first > 0) || second / first - 1 > policy.agree;
}

double burst_spread(std::span<const double> bursts_us) {
  if (bursts_us.size() < 2) return 0;
  const auto [lo, hi] = std::minmax_element(bursts_us.begin(), bursts_us.end());
  return *lo > 0 ? *hi / *lo - 1 : 0.0;
}

}  // namespace hwnas::prof
