// The one timing loop (MEASURE.md): warm-up by count and time, calls under ~50 µs timed in blocks,
// adaptive repetitions until the 95% CI of the median is within ±2% (after a minimum count and
// time), a time cap that flags the result noisy. Protocols users know are presets of the same loop.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hwnas::prof {

enum class Protocol : std::uint8_t { standard, litv2, hat, nnmeter, trtexec, kCount };
std::string_view name_of(Protocol p);
std::optional<Protocol> protocol_from(std::string_view s);

struct TimingConfig {
  int warmup_min_runs = 10;
  double warmup_min_ms = 200;
  int min_samples = 10;
  double min_time_ms = 100;
  double max_time_ms = 3000;    // cap: a capped measurement is flagged noisy
  double target_rel_ci = 0.02;  // stop when the median's 95% CI is within ±2%
  double block_under_us = 50;   // calls shorter than this are timed k at a time
  int fixed_samples = 0;        // > 0: exactly this many samples, no adaptive stop (paper protocols)
  double trim_fraction = -1;    // >= 0: the figure is this trimmed mean (HAT 0.1; LITv2 0, the mean), else the median
  double noisy_iqr = 0.10;      // IQR / median above this flags noise

  static TimingConfig for_protocol(Protocol p);
};

struct Measurement {
  double figure_us = 0;  // what the protocol reports: the median, HAT's trimmed mean, LITv2's mean
  double median_us = 0, min_us = 0, p10_us = 0, p90_us = 0, p99_us = 0, mean_us = 0;
  double ci_low_us = 0, ci_high_us = 0;
  double cv = 0;       // stddev / mean
  std::int64_t n = 0;  // samples
  std::int64_t calls_per_sample = 1;
  std::int64_t warmup_runs = 0;
  double elapsed_ms = 0;  // wall time spent, warm-up included
  bool noisy = false;
  std::string noise_reason;        // why it is flagged
  std::vector<double> samples_us;  // per call (a block's time divided by its calls)
};

// Microseconds from an arbitrary origin. Backends with a virtual clock (the fake one) supply theirs.
using Clock = std::function<double()>;
Clock steady_clock_us();

Measurement time_it(const std::function<void()>& call, const TimingConfig& cfg, const Clock& clock = steady_clock_us());

// The loop itself, for backends that time on the device: run_k(k) makes k calls and returns their
// total µs as the device measured it (CUDA events); `wall` paces warm-up and the time caps.
using BlockTimer = std::function<double(std::int64_t k)>;
Measurement time_blocks(const BlockTimer& run_k, const TimingConfig& cfg, const Clock& wall = steady_clock_us());

}  // namespace hwnas::prof
