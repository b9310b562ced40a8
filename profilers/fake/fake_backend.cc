#include "profilers/fake/fake_backend.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "space/ops.h"

namespace hwnas::prof {
namespace detail {

struct FakeState {
  double now_us = 0;
  std::uint64_t rng = 0;
  double noise_rel = 0;

  // splitmix64: tiny, seedable, and the same sequence on every platform.
  double next_uniform() {
    std::uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
  }
  double jitter() { return noise_rel > 0 ? 1.0 + noise_rel * (2.0 * next_uniform() - 1.0) : 1.0; }
};

}  // namespace detail

namespace {

double tick(double us) {
  return std::round(std::max(us, 0.0) / FakeBackend::kTickUs) * FakeBackend::kTickUs;
}

class FakeRunnable final : public Runnable {
 public:
  FakeRunnable(std::shared_ptr<detail::FakeState> state, std::vector<double> base_us, std::vector<bool> runs,
               std::vector<int> units, std::vector<std::string> steps, double inter_unit_us,
               std::vector<std::int64_t> in_shape, std::vector<std::int64_t> out_shape, double creation_ms)
      : state_(std::move(state)),
        base_us_(std::move(base_us)),
        runs_(std::move(runs)),
        units_(std::move(units)),
        steps_(std::move(steps)),
        inter_unit_us_(inter_unit_us),
        in_shape_(std::move(in_shape)),
        out_shape_(std::move(out_shape)),
        creation_ms_(creation_ms) {}

  void run() override {
    const double j = state_->jitter();
    double total = 0;
    bool after_one = false;  // inter_unit_us_ between units that run something
    for (std::size_t u = 0; u < base_us_.size(); ++u) {
      if (!runs_[u]) continue;
      total += tick(base_us_[u] * j) + (after_one ? inter_unit_us_ : 0.0);
      after_one = true;
    }
    state_->now_us += total;
  }
  std::vector<std::string> steps() const override { return steps_; }
  void run_step(std::size_t i) override { state_->now_us += tick(base_us_.at(i) * state_->jitter()); }
  std::vector<int> step_units() const override { return units_; }
  void set_input(std::span<const float> /*values*/) override {}
  std::vector<float> output() const override {
    std::size_t n = 1;
    for (auto d : out_shape_) n *= static_cast<std::size_t>(d);
    return std::vector<float>(n, 0.0f);
  }
  std::vector<std::int64_t> input_shape() const override { return in_shape_; }
  std::vector<std::int64_t> output_shape() const override { return out_shape_; }
  double creation_ms() const override { return creation_ms_; }
  std::vector<std::string> implementations() const override {
    return std::vector<std::string>(steps_.size(), "fake roofline");
  }

 private:
  std::shared_ptr<detail::FakeState> state_;
  std::vector<double> base_us_;  // per unit, before jitter and rounding
  std::vector<bool> runs_;       // per unit: false for a unit with no ops (0 µs, no boundary)
  std::vector<int> units_;
  std::vector<std::string> steps_;
  double inter_unit_us_;  // already rounded to the tick
  std::vector<std::int64_t> in_shape_, out_shape_;
  double creation_ms_;
};

// The roofline of fake_backend.h before jitter and rounding.
double roofline_us(const FakeBackend::Params& p, const space::Unit& unit, const RunConfig& cfg) {
  if (unit.runs_nothing()) return 0;
  double macs = 0, act_bytes = 0, weight_bytes = 0;
  for (const space::Op& op : unit.ops) {
    macs += static_cast<double>(op.macs);
    act_bytes += static_cast<double>(op.in_bytes) + static_cast<double>(op.out_bytes);
    weight_bytes += static_cast<double>(op.weight_bytes());
  }
  const bool bf16 = cfg.dtype == DType::bf16;
  const double bytes_scale = bf16 ? 0.5 : 1.0;
  const double peak = (bf16 ? p.peak_bf16_gflops : p.peak_f32_gflops) * p.threads;
  const auto batch = static_cast<double>(cfg.batch);
  const double compute_us = 2.0 * macs * batch / (peak * 1e3);
  const double memory_us = bytes_scale * (batch * act_bytes + weight_bytes) / (p.bandwidth_gbs * 1e3);
  return std::max(compute_us, memory_us) + p.unit_overhead_us;
}

}  // namespace

FakeBackend::FakeBackend(Params params) : params_(params), state_(std::make_shared<detail::FakeState>()) {
  state_->rng = params_.seed;
  state_->noise_rel = params_.noise_rel;
  device_.kind = "fake";
  device_.model = "fake roofline";
  device_.cores = params_.threads;
  device_.threads = params_.threads;
  device_.isa = "fake";
  device_.bf16_native = params_.bf16;
  device_.engine = fmt::format("fake roofline ({} GFLOP/s f32, {} GB/s, {} us/unit)", params_.peak_f32_gflops,
                               params_.bandwidth_gbs, params_.unit_overhead_us);
  device_.peak_f32_gflops = params_.peak_f32_gflops * params_.threads;
  device_.peak_bf16_gflops = params_.bf16 ? params_.peak_bf16_gflops * params_.threads : 0.0;
  device_.triad_gbs = params_.bandwidth_gbs;
}

std::string FakeBackend::unsupported(const space::Arch& arch, const RunConfig& cfg) const {
  if (cfg.dtype == DType::bf16 && !params_.bf16)
    return "bf16 is not supported by this fake backend (FakeBackend::Params::bf16 is false)";
  if (cfg.dtype == DType::f16) return "f16 is not supported by the fake backend";
  if (cfg.batch < 1) return fmt::format("batch must be >= 1 (got {})", cfg.batch);
  auto net = space::lower(arch);
  if (!net) return net.error().message;
  return "";
}

Result<std::unique_ptr<Runnable>> FakeBackend::prepare(const space::Arch& arch, Subject subject, const RunConfig& cfg,
                                                       const WeightSource& /*weights*/) {
  if (auto why = unsupported(arch, cfg); !why.empty()) return Error{why};
  auto lowered = space::lower(arch);
  if (!lowered) return lowered.error();
  const space::Lowered& net = *lowered;
  auto span = unit_span(arch, net, subject, cfg.batch);
  if (!span) return span.error();
  const int first = span->first, last = span->last;
  std::vector<double> base_us;
  std::vector<bool> runs;
  std::vector<int> units;
  std::vector<std::string> steps;
  for (int u = first; u <= last; ++u) {
    const space::Unit& unit = net.units[static_cast<std::size_t>(u)];
    base_us.push_back(roofline_us(params_, unit, cfg));
    runs.push_back(!unit.runs_nothing());
    units.push_back(u);
    steps.push_back(fmt::format("roofline[{}]", unit.label));
  }
  return std::unique_ptr<Runnable>(std::make_unique<FakeRunnable>(
      state_, std::move(base_us), std::move(runs), std::move(units), std::move(steps), tick(params_.inter_unit_us),
      span->input_shape, span->output_shape, params_.creation_ms));
}

Clock FakeBackend::clock() const {
  return [state = state_] { return state->now_us; };
}

double FakeBackend::calibration_us() {
  if (params_.calibration_us <= 0) return 0;
  const double us = tick(params_.calibration_us * state_->jitter());
  state_->now_us += us;
  return us;
}

double FakeBackend::now_us() const {
  return state_->now_us;
}

void FakeBackend::advance_us(double us) {
  state_->now_us += tick(us);
}

double FakeBackend::model_us(const space::Unit& unit, const RunConfig& cfg) const {
  return tick(roofline_us(params_, unit, cfg));
}

}  // namespace hwnas::prof
