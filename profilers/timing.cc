#include "profilers/timing.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "profilers/stats.h"

namespace hwnas::prof {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(Protocol::kCount)> kProtocolNames = {
    "default", "litv2", "hat", "nnmeter", "trtexec"};

}  // namespace

std::string_view name_of(Protocol p) {
  return kProtocolNames.at(static_cast<std::size_t>(p));
}

std::optional<Protocol> protocol_from(std::string_view s) {
  for (std::size_t i = 0; i < kProtocolNames.size(); ++i)
    if (kProtocolNames[i] == s) return static_cast<Protocol>(i);
  return std::nullopt;
}

TimingConfig TimingConfig::for_protocol(Protocol p) {
  TimingConfig c;
  switch (p) {
    case Protocol::standard: break;
    case Protocol::litv2:  // LITv2: 50 warm-up forwards, 30 timed, throughput = 30·B/elapsed (the mean)
      c.warmup_min_runs = 50;
      c.warmup_min_ms = 0;
      c.fixed_samples = 30;
      c.trim_fraction = 0;
      c.block_under_us = 0;
      break;
    case Protocol::hat:  // HAT: 5 warm-ups, 300 runs, 10% trimmed at each end, mean
      c.warmup_min_runs = 5;
      c.warmup_min_ms = 0;
      c.fixed_samples = 300;
      c.trim_fraction = 0.1;
      c.block_under_us = 0;
      break;
    case Protocol::nnmeter:  // nn-Meter: 10 warm-ups, 50 runs
      c.warmup_min_runs = 10;
      c.warmup_min_ms = 0;
      c.fixed_samples = 50;
      c.block_under_us = 0;
      break;
    case Protocol::trtexec:  // trtexec: 200 ms warm-up, 3 s of runs, median
      c.warmup_min_runs = 1;
      c.warmup_min_ms = 200;
      c.min_time_ms = 3000;
      c.max_time_ms = 3000;
      c.target_rel_ci = 0;  // never stops early: runs the full 3 s
      c.min_samples = 1;
      break;
    case Protocol::kCount: break;
  }
  return c;
}

Clock steady_clock_us() {
  return [] {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
}

Measurement time_it(const std::function<void()>& call, const TimingConfig& cfg, const Clock& clock) {
  return time_blocks(
      [&](std::int64_t k) {
        const double a = clock();
        for (std::int64_t i = 0; i < k; ++i) call();
        return clock() - a;
      },
      cfg, clock);
}

Measurement time_blocks(const BlockTimer& run_k, const TimingConfig& cfg, const Clock& clock) {
  Measurement m;
  const double t0 = clock();
  // Warm-up: never timed; at least warmup_min_runs calls and warmup_min_ms. Calls that do not move the
  // clock at all (a unit that runs nothing, on the fake backend's virtual clock) take 0 µs: no amount of
  // warm-up or sampling changes that, and waiting for the clock would never end.
  double last_call_us = 0;
  bool still = false;
  for (;;) {
    last_call_us = run_k(1);
    ++m.warmup_runs;
    if (m.warmup_runs < cfg.warmup_min_runs) continue;
    const double since_us = clock() - t0;
    still = since_us <= 0;
    if (still || since_us >= cfg.warmup_min_ms * 1e3) break;
  }
  // Short calls are timed in blocks so that the clock's own cost (~26 ns) stays negligible.
  std::int64_t k = 1;
  if (cfg.block_under_us > 0 && last_call_us < cfg.block_under_us)
    k = std::clamp<std::int64_t>(
        static_cast<std::int64_t>(std::ceil(cfg.block_under_us / std::max(last_call_us, 0.05))), 1, 100000);
  m.calls_per_sample = k;

  const double start = clock();
  bool capped = false;
  std::vector<double> sorted;
  std::int64_t next_check = 0;
  for (;;) {
    m.samples_us.push_back(run_k(k) / static_cast<double>(k));
    const auto n = static_cast<std::int64_t>(m.samples_us.size());
    const double spent_ms = (clock() - start) / 1e3;
    if (cfg.fixed_samples > 0) {
      if (n >= cfg.fixed_samples) break;
      continue;
    }
    if (still && n >= cfg.min_samples) break;
    // The CI check sorts all samples: do it only when n has grown by 10% since the last check, so a
    // long (capped) run stays linear rather than quadratic in its samples.
    if (n >= cfg.min_samples && spent_ms >= cfg.min_time_ms && cfg.target_rel_ci > 0 && n >= next_check) {
      next_check = n + std::max<std::int64_t>(1, n / 10);
      sorted = m.samples_us;
      std::sort(sorted.begin(), sorted.end());
      const double med = percentile(sorted, 0.5);
      const auto [lo, hi] = median_ci95(sorted);
      if (med > 0 && (med - lo) <= cfg.target_rel_ci * med && (hi - med) <= cfg.target_rel_ci * med) break;
    }
    if (spent_ms >= cfg.max_time_ms) {
      capped = cfg.target_rel_ci > 0;
      break;
    }
  }
  sorted = m.samples_us;
  std::sort(sorted.begin(), sorted.end());
  m.n = static_cast<std::int64_t>(sorted.size());
  m.median_us = percentile(sorted, 0.5);
  m.min_us = sorted.front();
  m.p10_us = percentile(sorted, 0.10);
  m.p90_us = percentile(sorted, 0.90);
  m.p99_us = percentile(sorted, 0.99);
  m.mean_us = mean(sorted);
  m.cv = m.mean_us > 0 ? stddev(sorted) / m.mean_us : 0;
  std::tie(m.ci_low_us, m.ci_high_us) = median_ci95(sorted);
  m.figure_us = cfg.trim_fraction >= 0 ? trimmed_mean(sorted, cfg.trim_fraction) : m.median_us;
  m.elapsed_ms = (clock() - t0) / 1e3;
  const double iqr = percentile(sorted, 0.75) - percentile(sorted, 0.25);
  if (capped) {
    m.noisy = true;
    m.noise_reason = fmt::format("time cap {:.0f} ms reached before the median's 95% CI was within ±{:.0f}%",
                                 cfg.max_time_ms, 100 * cfg.target_rel_ci);
  } else if (m.median_us > 0 && iqr / m.median_us > cfg.noisy_iqr) {
    m.noisy = true;
    m.noise_reason =
        fmt::format("IQR is {:.0f}% of the median (> {:.0f}%)", 100 * iqr / m.median_us, 100 * cfg.noisy_iqr);
  }
  return m;
}

}  // namespace hwnas::prof
