// profile() and chrome_trace() end to end on the fake backend, whose virtual clock makes every figure
// exact. Expected latencies are recomputed here from the op table and the roofline documented in
// fake/fake_backend.h; the fake's own helpers are not used for expectations.
#include "profilers/profile.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "profilers/fake/fake_backend.h"
#include "space/count.h"
#include "space/ops.h"
#include "space/presets.h"

namespace hwnas::prof {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

space::Arch arch_of(const std::string& name) {
  auto a = space::preset(name);
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
  return a.ok() ? *a : space::Arch{};
}

space::Lowered lowered_of(const space::Arch& a) {
  auto net = space::lower(a);
  EXPECT_TRUE(net.ok()) << (net.ok() ? "" : net.error().message);
  return net.ok() ? *net : space::Lowered{};
}

// The documented roofline with the default constants: 200 GFLOP/s f32 (400 bf16), 40 GB/s, 5 µs per
// unit, 2 µs between units, clock resolution 2⁻¹⁰ µs.
constexpr double kPeakF32 = 200e9, kPeakBf16 = 400e9;  // FLOP/s
constexpr double kBandwidth = 40e9;                    // B/s
constexpr double kUnitOverheadUs = 5, kInterUnitUs = 2;

double to_tick(double us) {
  return std::round(us * 1024.0) / 1024.0;
}

// A unit with no ops costs nothing, and is no boundary between units.
double expected_unit_us(const space::Unit& u, std::int64_t batch, DType dtype) {
  if (u.ops.empty()) return 0;
  std::int64_t macs = 0, act_bytes = 0, params = 0;
  for (const space::Op& op : u.ops) {
    macs += op.macs;
    act_bytes += op.in_bytes + op.out_bytes;
    params += op.params;
  }
  const auto b = static_cast<double>(batch);
  const bool bf16 = dtype == DType::bf16;
  const double flops = 2.0 * static_cast<double>(macs) * b;
  const double compute_s = flops / (bf16 ? kPeakBf16 : kPeakF32);
  const double bytes = (b * static_cast<double>(act_bytes) + 4.0 * static_cast<double>(params)) * (bf16 ? 0.5 : 1.0);
  const double memory_s = bytes / kBandwidth;
  return to_tick(std::max(compute_s, memory_s) * 1e6 + kUnitOverheadUs);
}

std::vector<double> expected_units_us(const space::Lowered& net, std::int64_t batch, DType dtype) {
  std::vector<double> v;
  for (const auto& u : net.units) v.push_back(expected_unit_us(u, batch, dtype));
  return v;
}

double sum(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0);
}

double boundaries(const space::Lowered& net) {
  const auto running = std::count_if(net.units.begin(), net.units.end(), [](const auto& u) { return !u.ops.empty(); });
  return static_cast<double>(running - 1);
}

double expected_network_us(const space::Lowered& net, std::int64_t batch, DType dtype) {
  return sum(expected_units_us(net, batch, dtype)) + boundaries(net) * kInterUnitUs;
}

const RandomWeights kWeights;

// --- The fake backend itself --------------------------------------------------------------------

TEST(FakeBackend, DescribesItself) {
  FakeBackend fake;
  EXPECT_EQ(fake.name(), "fake");
  EXPECT_EQ(fake.device().kind, "fake");
  EXPECT_EQ(fake.device().model, "fake roofline");
  EXPECT_EQ(fake.device().peak_f32_gflops, 200.0);
  EXPECT_EQ(fake.device().peak_bf16_gflops, 400.0);
  EXPECT_EQ(fake.device().triad_gbs, 40.0);
  EXPECT_TRUE(fake.device().bf16_native);
  EXPECT_FALSE(fake.device().fingerprint().empty());
  FakeBackend::Params p;
  p.bf16 = false;
  p.peak_f32_gflops = 123;
  FakeBackend other(p);
  EXPECT_EQ(other.device().peak_f32_gflops, 123.0);
  EXPECT_EQ(other.device().peak_bf16_gflops, 0.0);
  EXPECT_FALSE(other.device().bf16_native);
  EXPECT_NE(other.device().fingerprint(), fake.device().fingerprint());
}

TEST(FakeBackend, ShapesFollowTheOnednnConvention) {
  FakeBackend fake;
  const space::Arch a = arch_of("deit-tiny");
  const space::Lowered net = lowered_of(a);
  ASSERT_EQ(net.units.size(), 14u);  // stem, 12 blocks, head
  const RunConfig cfg{3, DType::f32, 0};
  struct Case {
    Subject subject;
    std::vector<std::int64_t> in, out;
  };
  const std::vector<Case> cases = {
      {Subject::network(), {3, 3, 224, 224}, {3, 1000}},
      {Subject::of_unit(0), {3, 3, 224, 224}, {3, 197, 192}},  // stem: 14×14 patches + cls token
      {Subject::of_unit(1), {3, 197, 192}, {3, 197, 192}},
      {Subject::of_unit(13), {3, 197, 192}, {3, 1000}},  // head
  };
  for (const auto& c : cases) {
    auto r = fake.prepare(a, c.subject, cfg, kWeights);
    ASSERT_TRUE(r.ok()) << r.error().message;
    Runnable& run = **r;
    EXPECT_EQ(run.input_shape(), c.in) << c.subject.unit;
    EXPECT_EQ(run.output_shape(), c.out) << c.subject.unit;
    std::int64_t n = 1;
    for (auto d : c.out) n *= d;
    std::vector<float> in(static_cast<std::size_t>(3 * 197 * 192), 1.0f);
    run.set_input(in);
    run.run();
    const std::vector<float> out = run.output();
    EXPECT_EQ(static_cast<std::int64_t>(out.size()), n);
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](float x) { return x == 0.0f; }));
  }
}

TEST(FakeBackend, OneStepPerUnit) {
  FakeBackend fake;
  const space::Arch a = arch_of("pvtv2-b0");
  const space::Lowered net = lowered_of(a);
  auto whole = fake.prepare(a, Subject::network(), RunConfig{}, kWeights);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  const auto steps = (*whole)->steps();
  const auto units = (*whole)->step_units();
  ASSERT_EQ(steps.size(), net.units.size());
  ASSERT_EQ(units.size(), net.units.size());
  EXPECT_EQ((*whole)->implementations().size(), net.units.size());
  for (std::size_t i = 0; i < units.size(); ++i) {
    EXPECT_EQ(units[i], static_cast<int>(i));
    EXPECT_TRUE(contains(steps[i], net.units[i].label)) << steps[i];
  }
  auto one = fake.prepare(a, Subject::of_unit(3), RunConfig{}, kWeights);
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ((*one)->steps(), std::vector<std::string>{steps[3]});
  EXPECT_EQ((*one)->step_units(), std::vector<int>{3});
  auto bad = fake.prepare(a, Subject::of_unit(static_cast<int>(net.units.size())), RunConfig{}, kWeights);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.error().message, "out of range")) << bad.error().message;
}

TEST(FakeBackend, RunAdvancesTheSharedVirtualClockByTheRoofline) {
  FakeBackend fake;
  const space::Arch a = arch_of("deit-tiny");
  const space::Lowered net = lowered_of(a);
  const RunConfig cfg;
  const std::vector<double> unit_us = expected_units_us(net, 1, DType::f32);
  const Clock clock = fake.clock();
  EXPECT_EQ(clock(), 0.0);
  auto whole = fake.prepare(a, Subject::network(), cfg, kWeights);
  auto block = fake.prepare(a, Subject::of_unit(5), cfg, kWeights);
  ASSERT_TRUE(whole.ok() && block.ok());
  EXPECT_EQ(clock(), 0.0);  // preparing costs no virtual time
  (*whole)->run();
  const double network_us = sum(unit_us) + 13 * kInterUnitUs;
  EXPECT_EQ(clock(), network_us);
  (*block)->run();  // another runnable of the same backend moves the same clock
  EXPECT_EQ(clock(), network_us + unit_us[5]);
  (*whole)->run_step(13);  // a step alone: its unit, no inter-unit overhead
  EXPECT_EQ(fake.now_us(), network_us + unit_us[5] + unit_us[13]);
  fake.advance_us(10);
  EXPECT_EQ(clock(), network_us + unit_us[5] + unit_us[13] + 10);
  // The clock is shared, not copied: a clock taken before still reads it.
  EXPECT_EQ(fake.clock()(), clock());
}

TEST(FakeBackend, ABlockThatRunsNothingCostsNothingAndIsNoBoundary) {
  FakeBackend fake;
  space::Arch a = arch_of("deit-tiny");
  a.stages[0].blocks[4].mixer = space::Mixer{space::MixerKind::skip};  // FinerCut removed both sublayers
  a.stages[0].blocks[4].ffn = space::Ffn{space::FfnKind::none, 0};
  const space::Lowered net = lowered_of(a);
  ASSERT_EQ(net.units.size(), 14u);
  ASSERT_TRUE(net.units[5].ops.empty()) << net.units[5].label;  // stem, blocks 0..3, then block 4
  const std::vector<double> unit_us = expected_units_us(net, 1, DType::f32);
  auto whole = fake.prepare(a, Subject::network(), RunConfig{}, kWeights);
  auto empty = fake.prepare(a, Subject::of_unit(5), RunConfig{}, kWeights);
  ASSERT_TRUE(whole.ok() && empty.ok());
  (*empty)->run();
  EXPECT_EQ(fake.now_us(), 0.0);
  (*whole)->run();
  EXPECT_EQ(unit_us[5], 0.0);
  EXPECT_EQ(fake.now_us(), sum(unit_us) + 12 * kInterUnitUs);  // 13 units run: 12 boundaries
}

TEST(FakeBackend, RooflineSanityAgainstTheGoldenMacCount) {
  // deit-tiny executes 1'253'683'200 MACs (SEEDS §9): at 200 GFLOP/s that alone is 12'536.832 µs,
  // plus 14 × 5 µs unit overhead and 13 × 2 µs between units; memory-bound units (the head reads
  // 768 KB of weights) add a few µs more.
  const space::Lowered net = lowered_of(arch_of("deit-tiny"));
  const double floor_us = 2.0 * 1'253'683'200.0 / 200e3 + 14 * 5 + 13 * 2;
  const double us = expected_network_us(net, 1, DType::f32);
  EXPECT_GE(us, floor_us);
  EXPECT_LT(us, floor_us * 1.01);
  std::int64_t macs = 0;
  for (const auto& u : net.units) {
    for (const auto& op : u.ops) macs += op.macs;
  }
  EXPECT_EQ(macs, 1'253'683'200);
}

TEST(FakeBackend, RefusesDisabledBf16AndBadBatches) {
  FakeBackend::Params p;
  p.bf16 = false;
  FakeBackend fake(p);
  const space::Arch a = arch_of("deit-tiny");
  const std::string why = fake.unsupported(a, RunConfig{1, DType::bf16, 0});
  EXPECT_TRUE(contains(why, "bf16")) << why;
  EXPECT_EQ(fake.unsupported(a, RunConfig{1, DType::f32, 0}), "");
  const std::string batch = fake.unsupported(a, RunConfig{0, DType::f32, 0});
  EXPECT_TRUE(contains(batch, "batch")) << batch;
  auto r = fake.prepare(a, Subject::network(), RunConfig{1, DType::bf16, 0}, kWeights);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, why);
  // Allowed by default.
  FakeBackend with_bf16;
  EXPECT_EQ(with_bf16.unsupported(a, RunConfig{1, DType::bf16, 0}), "");
}

TEST(FakeBackend, JitterIsSeededAndBounded) {
  const space::Arch a = arch_of("deit-tiny");
  const space::Lowered net = lowered_of(a);
  auto samples = [&](std::uint64_t seed) {
    FakeBackend::Params p;
    p.noise_rel = 0.1;
    p.seed = seed;
    FakeBackend fake(p);
    auto r = fake.prepare(a, Subject::of_unit(2), RunConfig{}, kWeights);
    EXPECT_TRUE(r.ok());
    std::vector<double> v;
    for (int i = 0; i < 200; ++i) {
      const double t0 = fake.now_us();
      (*r)->run();
      v.push_back(fake.now_us() - t0);
    }
    return v;
  };
  const std::vector<double> a1 = samples(7), a2 = samples(7), b = samples(8);
  EXPECT_EQ(a1, a2);
  EXPECT_NE(a1, b);
  const double base = expected_unit_us(net.units[2], 1, DType::f32);
  const auto [lo, hi] = std::minmax_element(a1.begin(), a1.end());
  EXPECT_GE(*lo, 0.9 * base - 1e-3);
  EXPECT_LE(*hi, 1.1 * base + 1e-3);
  // Spread over most of the ±10% band, not a constant.
  EXPECT_LT(*lo, 0.95 * base);
  EXPECT_GT(*hi, 1.05 * base);
}

// --- profile() ----------------------------------------------------------------------------------

TEST(Profile, EndToEndAndPerUnitEqualTheRooflineExactly) {
  FakeBackend fake;
  const space::Arch a = arch_of("deit-tiny");
  const space::Lowered net = lowered_of(a);
  ProfileOptions o;
  o.per_unit = true;
  std::vector<std::string> progress;
  auto r = profile(fake, a, o, kWeights, [&](const std::string& what, int done, int total) {
    progress.push_back(what);
    EXPECT_EQ(total, 15);
    EXPECT_LE(done, total);
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::vector<double> unit_us = expected_units_us(net, 1, DType::f32);
  const double network_us = sum(unit_us) + boundaries(net) * kInterUnitUs;

  EXPECT_EQ(r->arch_name, "deit-tiny");
  EXPECT_EQ(r->device.kind, "fake");
  EXPECT_EQ(r->counts.macs, 1'253'683'200);
  EXPECT_EQ(r->end_to_end.figure_us, network_us);
  EXPECT_EQ(r->end_to_end.median_us, network_us);
  EXPECT_EQ(r->end_to_end.min_us, network_us);
  EXPECT_FALSE(r->end_to_end.noisy) << r->end_to_end.noise_reason;
  EXPECT_EQ(r->end_to_end.n, 10);  // 12.6 ms calls: 10 samples pass 100 ms; the CI is a point
  EXPECT_DOUBLE_EQ(r->throughput_img_s(), 1e6 / network_us);
  EXPECT_DOUBLE_EQ(r->peak_gflops(), 200.0);

  ASSERT_EQ(r->units.size(), net.units.size());
  for (std::size_t i = 0; i < net.units.size(); ++i) {
    const UnitProfile& u = r->units[i];
    EXPECT_EQ(u.unit, static_cast<int>(i));
    EXPECT_EQ(u.label, net.units[i].label);
    EXPECT_EQ(u.kind, std::string(space::name_of(net.units[i].kind)));
    EXPECT_EQ(u.time.figure_us, unit_us[i]) << u.label;
    EXPECT_FALSE(u.time.noisy) << u.label << ": " << u.time.noise_reason;
    EXPECT_EQ(u.counts.macs, space::count(net.units[i]).macs) << u.label;
  }
  EXPECT_EQ(r->units.front().label, "stem");
  EXPECT_EQ(r->units.back().label, "head");
  EXPECT_EQ(r->units.back().time.calls_per_sample > 1, unit_us.back() < 50) << unit_us.back();
  EXPECT_EQ(r->sum_of_units_us, sum(unit_us));
  // The gap between the units timed alone and the whole network is the inter-unit overhead.
  EXPECT_EQ(r->end_to_end.figure_us - r->sum_of_units_us, 13 * kInterUnitUs);

  ASSERT_EQ(progress.size(), 16u);  // end to end, 14 units, done
  EXPECT_EQ(progress.front(), "end to end");
  EXPECT_EQ(progress[1], "stem");
  EXPECT_EQ(progress[14], "head");
  EXPECT_EQ(progress.back(), "done");
}

TEST(Profile, PerStepTimesEachUnitStepAlone) {
  FakeBackend fake;
  const space::Arch a = arch_of("pvtv2-b0");
  const space::Lowered net = lowered_of(a);
  ProfileOptions o;
  o.per_step = true;
  o.run.batch = 2;
  auto r = profile(fake, a, o, kWeights);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::vector<double> unit_us = expected_units_us(net, 2, DType::f32);
  auto whole = fake.prepare(a, Subject::network(), o.run, kWeights);
  ASSERT_TRUE(whole.ok());
  const auto names = (*whole)->steps();
  ASSERT_EQ(r->steps.size(), net.units.size());
  for (std::size_t i = 0; i < r->steps.size(); ++i) {
    EXPECT_EQ(r->steps[i].name, names[i]);
    EXPECT_EQ(r->steps[i].unit, static_cast<int>(i));
    EXPECT_EQ(r->steps[i].impl, "fake roofline");
    EXPECT_EQ(r->steps[i].time.figure_us, unit_us[i]) << names[i];
  }
  EXPECT_TRUE(r->units.empty());
  EXPECT_EQ(r->end_to_end.figure_us, sum(unit_us) + boundaries(net) * kInterUnitUs);
}

// The fake backend with a shared host's slow phases: timing call i runs slow[i] times slower (whole
// numbers: each call is repeated, as the virtual clock only moves when a runnable runs).
class SlowPhases final : public Backend {
 public:
  explicit SlowPhases(std::map<int, int> slow) : slow_(std::move(slow)) {}
  std::string name() const override { return fake_.name(); }
  const DeviceInfo& device() const override { return fake_.device(); }
  std::string unsupported(const space::Arch& a, const RunConfig& c) const override { return fake_.unsupported(a, c); }
  Result<std::unique_ptr<Runnable>> prepare(const space::Arch& a, Subject s, const RunConfig& c,
                                            const WeightSource& w) override {
    ++prepared;
    return fake_.prepare(a, s, c, w);
  }
  Clock clock() const override { return fake_.clock(); }
  Measurement time(const std::function<void()>& call, const TimingConfig& cfg) override {
    const auto it = slow_.find(calls++);
    const int times = it == slow_.end() ? 1 : it->second;
    return time_it(
        [&] {
          for (int k = 0; k < times; ++k) call();
        },
        cfg, clock());
  }
  int calls = 0, prepared = 0;

 private:
  FakeBackend fake_;
  std::map<int, int> slow_;
};

TEST(Profile, EndToEndInBurstsKeepsTheFastestAfterTheOtherPasses) {
  const space::Arch a = arch_of("deit-tiny");
  const space::Lowered net = lowered_of(a);
  const double network_us = expected_network_us(net, 1, DType::f32);
  ProfileOptions o;
  o.per_unit = true;
  o.bursts = BurstPolicy::up_to(4, 0.03);
  {  // The first burst in a slow phase (2×): a second one disagrees, a third agrees with it.
    SlowPhases host(std::map<int, int>{{0, 2}});
    auto r = profile(host, a, o, kWeights);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->bursts_us, (std::vector<double>{2 * network_us, network_us, network_us}));
    EXPECT_EQ(r->end_to_end.figure_us, network_us);
    EXPECT_EQ(host.calls, 1 + 14 + 2);  // burst 1, the 14 units, bursts 2 and 3: after the units
    EXPECT_EQ(host.prepared, 1 + 14 + 1);
    EXPECT_EQ(r->units.size(), net.units.size());
  }
  {  // Quiet: two bursts agree; one network preparation serves both when nothing runs in between.
    SlowPhases host(std::map<int, int>{});
    o.per_unit = false;
    auto r = profile(host, a, o, kWeights);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->bursts_us, (std::vector<double>{network_us, network_us}));
    EXPECT_EQ(host.prepared, 1);
  }
  {  // Slow phases that never repeat: the maximum ends it, the fastest is kept.
    SlowPhases host(std::map<int, int>{{0, 4}, {1, 3}, {2, 2}});
    auto r = profile(host, a, o, kWeights);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->bursts_us, (std::vector<double>{4 * network_us, 3 * network_us, 2 * network_us, network_us}));
    EXPECT_EQ(r->end_to_end.figure_us, network_us);
  }
  {  // Two bursts in the same slow phase agree: bursts cannot see a phase longer than they are apart.
    SlowPhases host(std::map<int, int>{{0, 2}, {1, 2}});
    auto r = profile(host, a, o, kWeights);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->bursts_us, (std::vector<double>{2 * network_us, 2 * network_us}));
  }
  {  // The default policy: one burst, as before.
    SlowPhases host(std::map<int, int>{{0, 2}});
    auto r = profile(host, a, ProfileOptions{}, kWeights);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->bursts_us, std::vector<double>{2 * network_us});
    EXPECT_EQ(r->end_to_end.figure_us, 2 * network_us);
  }
}

TEST(Profile, BatchAndBf16ChangeTheRoofline) {
  FakeBackend fake;
  for (const char* name : {"deit-tiny", "pvtv2-b0", "swin-t"}) {
    const space::Arch a = arch_of(name);
    const space::Lowered net = lowered_of(a);
    for (const RunConfig cfg :
         {RunConfig{1, DType::f32, 0}, RunConfig{8, DType::f32, 0}, RunConfig{4, DType::bf16, 0}}) {
      ProfileOptions o;
      o.run = cfg;
      auto r = profile(fake, a, o, kWeights);
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(r->end_to_end.figure_us, expected_network_us(net, cfg.batch, cfg.dtype))
          << name << " batch " << cfg.batch << " " << name_of(cfg.dtype);
    }
  }
}

TEST(Profile, FixedProtocolsGiveTheirCountsOnTheFake) {
  FakeBackend fake;
  const space::Arch a = arch_of("deit-tiny");
  ProfileOptions o;
  o.protocol = Protocol::litv2;
  auto r = profile(fake, a, o, kWeights);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->end_to_end.warmup_runs, 50);
  EXPECT_EQ(r->end_to_end.n, 30);
  EXPECT_EQ(r->end_to_end.figure_us, expected_network_us(lowered_of(a), 1, DType::f32));
}

TEST(Profile, RefusesBf16WhenTheBackendCannot) {
  FakeBackend::Params p;
  p.bf16 = false;
  FakeBackend fake(p);
  const space::Arch a = arch_of("deit-tiny");
  ProfileOptions o;
  o.run.dtype = DType::bf16;
  auto r = profile(fake, a, o, kWeights);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error().message, "bf16")) << r.error().message;
  EXPECT_EQ(fake.now_us(), 0.0);  // refused before anything ran
  o.run.dtype = DType::f32;
  o.run.batch = 0;
  auto b = profile(fake, a, o, kWeights);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(contains(b.error().message, "batch")) << b.error().message;
}

TEST(Profile, HeavyJitterHitsTheCapAndFlagsTheBatch) {
  // ±30% per run: with ~240 runs of 12.6 ms in the 3 s cap the median's CI stays near ±4%.
  FakeBackend::Params p;
  p.noise_rel = 0.3;
  FakeBackend fake(p);
  const space::Arch a = arch_of("deit-tiny");
  auto r = profile(fake, a, ProfileOptions{}, kWeights);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->end_to_end.noisy);
  EXPECT_TRUE(contains(r->end_to_end.noise_reason, "time cap")) << r->end_to_end.noise_reason;
  EXPECT_TRUE(r->noise.flagged);
  EXPECT_TRUE(contains(r->noise.reason, "end to end: time cap")) << r->noise.reason;
  const double base = expected_network_us(lowered_of(a), 1, DType::f32);
  EXPECT_GE(r->end_to_end.min_us, 0.7 * base - 1);
  EXPECT_LE(*std::max_element(r->end_to_end.samples_us.begin(), r->end_to_end.samples_us.end()), 1.3 * base + 1);
  EXPECT_NEAR(r->end_to_end.figure_us, base, 0.08 * base);
}

TEST(Profile, LightJitterStopsEarlyAndIsReproducible) {
  const space::Arch a = arch_of("deit-tiny");
  const double base = expected_network_us(lowered_of(a), 1, DType::f32);
  auto run = [&](std::uint64_t seed) {
    FakeBackend::Params p;
    p.noise_rel = 0.01;
    p.seed = seed;
    FakeBackend fake(p);
    auto r = profile(fake, a, ProfileOptions{}, kWeights);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->end_to_end : Measurement{};
  };
  const Measurement m = run(3);
  EXPECT_FALSE(m.noisy) << m.noise_reason;
  EXPECT_EQ(m.n, 10);  // the ±1% spread is inside the ±2% target at the minimum count
  EXPECT_NEAR(m.figure_us, base, 0.01 * base + 1);
  EXPECT_EQ(run(3).samples_us, m.samples_us);
  EXPECT_NE(run(4).samples_us, m.samples_us);
}

TEST(Profile, CalibrationWorkloadFeedsTheNoiseGate) {
  FakeBackend::Params p;
  p.calibration_us = 100;
  FakeBackend fake(p);
  auto r = profile(fake, arch_of("deit-tiny"), ProfileOptions{}, kWeights);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->noise.calibration_before_us, 100.0);
  EXPECT_EQ(r->noise.calibration_after_us, 100.0);
  EXPECT_EQ(r->noise.drift, 0.0);
  EXPECT_FALSE(contains(r->noise.reason, "calibration")) << r->noise.reason;
}

// --- chrome_trace() -----------------------------------------------------------------------------

struct Slice {
  std::string name, cat;
  double start = 0, end = 0;
};

TEST(ChromeTrace, StructureNestsNetworkUnitsAndSteps) {
  for (const char* preset : {"deit-tiny", "pvtv2-b0"}) {
    SCOPED_TRACE(preset);
    FakeBackend fake;
    const space::Arch a = arch_of(preset);
    const space::Lowered net = lowered_of(a);
    const RunConfig cfg;
    auto trace = chrome_trace(fake, a, cfg, kWeights);
    ASSERT_TRUE(trace.ok()) << trace.error().message;
    const nlohmann::json doc = nlohmann::json::parse(*trace);  // throws (fails the test) if not JSON
    ASSERT_TRUE(doc.is_object());
    ASSERT_TRUE(doc.contains("traceEvents"));
    const nlohmann::json& events = doc["traceEvents"];
    ASSERT_TRUE(events.is_array());

    auto runnable = fake.prepare(a, Subject::network(), cfg, kWeights);
    ASSERT_TRUE(runnable.ok());
    const std::vector<std::string> step_names = (*runnable)->steps();
    const std::vector<int> step_units = (*runnable)->step_units();
    const std::vector<double> unit_us = expected_units_us(net, 1, DType::f32);

    // Metadata: the process and thread are named.
    std::map<std::string, nlohmann::json> meta;
    std::vector<Slice> slices;
    for (const auto& e : events) {
      ASSERT_TRUE(e.contains("ph") && e["ph"].is_string()) << e.dump();
      ASSERT_TRUE(e.contains("pid") && e["pid"].is_number_integer()) << e.dump();
      ASSERT_TRUE(e.contains("tid") && e["tid"].is_number_integer()) << e.dump();
      ASSERT_TRUE(e.contains("name") && e["name"].is_string()) << e.dump();
      const std::string ph = e["ph"];
      if (ph == "M") {
        meta[e["name"].get<std::string>()] = e;
        continue;
      }
      ASSERT_EQ(ph, "X") << e.dump();
      ASSERT_TRUE(e.contains("ts") && e["ts"].is_number()) << e.dump();
      ASSERT_TRUE(e.contains("dur") && e["dur"].is_number()) << e.dump();
      const double ts = e["ts"].get<double>(), dur = e["dur"].get<double>();
      EXPECT_GE(dur, 0.0) << e.dump();
      slices.push_back({e["name"].get<std::string>(), e.value("cat", std::string()), ts, ts + dur});
    }
    ASSERT_TRUE(meta.count("process_name"));
    ASSERT_TRUE(meta.count("thread_name"));
    EXPECT_TRUE(meta["process_name"]["args"]["name"].is_string());
    EXPECT_TRUE(contains(meta["process_name"]["args"]["name"].get<std::string>(), preset));
    EXPECT_TRUE(meta["thread_name"]["args"]["name"].is_string());
    for (const auto& e : events) {
      EXPECT_EQ(e["pid"], meta["process_name"]["pid"]);
      EXPECT_EQ(e["tid"], meta["thread_name"]["tid"]);
    }

    // Classify the slices by name: the network (named after the arch), the units (their labels),
    // the steps (the runnable's step names).
    std::vector<Slice> network, units, steps;
    for (const auto& s : slices) {
      if (s.name == a.meta.name) {
        network.push_back(s);
      } else if (std::find(step_names.begin(), step_names.end(), s.name) != step_names.end()) {
        steps.push_back(s);
      } else {
        units.push_back(s);
      }
    }
    ASSERT_EQ(network.size(), 1u);
    ASSERT_EQ(units.size(), net.units.size());
    ASSERT_EQ(steps.size(), step_names.size());
    EXPECT_EQ(network[0].cat, "network");
    auto by_start = [](const Slice& x, const Slice& y) { return x.start < y.start; };
    std::stable_sort(units.begin(), units.end(), by_start);
    std::stable_sort(steps.begin(), steps.end(), by_start);

    // One unit slice per lowered unit, in order, inside the network slice, not overlapping.
    const Slice& whole = network[0];
    EXPECT_EQ(whole.start, 0.0);
    EXPECT_EQ(whole.end - whole.start, sum(unit_us));  // steps run back to back, no inter-unit gap
    for (std::size_t u = 0; u < units.size(); ++u) {
      EXPECT_EQ(units[u].name, net.units[u].label);
      EXPECT_EQ(units[u].cat, "unit");
      EXPECT_GE(units[u].start, whole.start) << units[u].name;
      EXPECT_LE(units[u].end, whole.end) << units[u].name;
      EXPECT_EQ(units[u].end - units[u].start, unit_us[u]) << units[u].name;
      if (u > 0) {
        EXPECT_GE(units[u].start, units[u - 1].end) << units[u].name;
      }
    }
    // Steps in the runnable's order, each inside its own unit's slice.
    for (std::size_t i = 0; i < steps.size(); ++i) {
      EXPECT_EQ(steps[i].name, step_names[i]);
      EXPECT_EQ(steps[i].cat, "step");
      const Slice& parent = units[static_cast<std::size_t>(step_units[i])];
      EXPECT_GE(steps[i].start, parent.start) << steps[i].name << " in " << parent.name;
      EXPECT_LE(steps[i].end, parent.end) << steps[i].name << " in " << parent.name;
      EXPECT_GE(steps[i].start, whole.start);
      EXPECT_LE(steps[i].end, whole.end);
    }
  }
}

TEST(ChromeTrace, RefusedConfigurationIsAnError) {
  FakeBackend::Params p;
  p.bf16 = false;
  FakeBackend fake(p);
  auto t = chrome_trace(fake, arch_of("deit-tiny"), RunConfig{1, DType::bf16, 0}, kWeights);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(contains(t.error().message, "bf16")) << t.error().message;
}

}  // namespace
}  // namespace hwnas::prof
