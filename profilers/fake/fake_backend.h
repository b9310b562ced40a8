// A deterministic backend for tests of everything above the profiler (profile(), traces, the store,
// cost models, search, reports). Its runnables compute nothing: run() advances a virtual clock owned
// by the backend (shared by its runnables, read through Backend::clock()) by a roofline latency.
//
// Per unit u of the lowered network (space::lower), at batch B:
//   macs(u)         = Σ op.macs                         (executed MACs per image, space/ops.h)
//   act_bytes(u)    = Σ (op.in_bytes + op.out_bytes)    (activations read + written per image, fp32)
//   weight_bytes(u) = Σ 4 · op.params                   (read once per forward, whatever the batch)
//   compute_us(u)   = 2 · macs(u) · B / (threads · peak_gflops · 1e3)     (1 GFLOP/s = 1e3 FLOP/µs)
//   memory_us(u)    = (B · act_bytes(u) + weight_bytes(u)) / (bandwidth_gbs · 1e3)   (1 GB/s = 1e3 B/µs)
//   latency_us(u)   = tick( (max(compute_us(u), memory_us(u)) + unit_overhead_us) · jitter )
//                     (0 for a unit with no ops, space::Unit::runs_nothing: no overhead either)
// bf16 uses peak_bf16_gflops and halves both byte counts (2-byte elements). Params::threads (1) is
// the device's thread count: another count is another device (fingerprint) with peaks × threads.
// A network run executes its units in order with inter_unit_us between consecutive units that run
// something:
//   network_us = Σ_u latency_us(u) + (running units − 1) · tick(inter_unit_us)
// tick(x) rounds to the clock's resolution, kTickUs = 2⁻¹⁰ µs (~1 ns): every clock reading is then a
// multiple of a power of two, so sums, differences and block averages are exact in double and a
// noiseless measurement equals the formula bit for bit.
// jitter = 1 + noise_rel · (2u − 1), u uniform in [0, 1) from a seeded generator, one draw per run(),
// run_step() or calibration_us() call (1 when noise_rel is 0): the whole call is scaled, so a
// network run is as noisy as a unit run. The same seed and the same calls give the same clock.
// Steps: one per unit, named "roofline[<unit label>]"; run_step(i) advances by unit i's latency alone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "profilers/backend.h"

namespace hwnas::prof {
namespace detail {
struct FakeState;  // the virtual clock and the jitter generator, shared by a backend and its runnables
}  // namespace detail

class FakeBackend final : public Backend {
 public:
  static constexpr double kTickUs = 1.0 / 1024.0;

  struct Params {
    int threads = 1;  // the device's threads: the compute peaks scale with them, bandwidth does not
    double peak_f32_gflops = 200;
    double peak_bf16_gflops = 400;
    double bandwidth_gbs = 40;
    double unit_overhead_us = 5;  // per unit execution (a kernel launch, a primitive's dispatch)
    double inter_unit_us = 2;     // between consecutive units of a network run
    double noise_rel = 0;         // relative amplitude of the multiplicative jitter: factor in [1 − a, 1 + a)
    std::uint64_t seed = 1;
    bool bf16 = true;           // false: unsupported() refuses bf16
    double calibration_us = 0;  // > 0: calibration_us() returns this (jittered) and advances the clock
    double creation_ms = 0;     // what the runnables report as creation time
  };

  explicit FakeBackend(Params params);
  FakeBackend() : FakeBackend(Params{}) {}

  std::string name() const override { return "fake"; }
  const DeviceInfo& device() const override { return device_; }
  std::string unsupported(const space::Arch& arch, const RunConfig& cfg) const override;
  Result<std::unique_ptr<Runnable>> prepare(const space::Arch& arch, Subject subject, const RunConfig& cfg,
                                            const WeightSource& weights) override;
  Clock clock() const override;
  double calibration_us() override;

  const Params& params() const { return params_; }
  // The virtual clock (µs since the backend was created); advance_us moves it by tick(us) >= 0.
  double now_us() const;
  void advance_us(double us);
  // latency_us(u) of the header comment without jitter, for tests of code above the profiler.
  double model_us(const space::Unit& unit, const RunConfig& cfg) const;

 private:
  Params params_;
  DeviceInfo device_;
  std::shared_ptr<detail::FakeState> state_;
};

}  // namespace hwnas::prof
