// Prediction speed of the cost model (issue 5 target: >= 100,000 archs/s on one thread; it runs in
// the search loop). A bench, not a test: prints archs/s for the paths a search uses.
//   cost_model_speed [ARCHS]    (default 20000 samples of hybrid-vit)
// The model is fitted on synthetic roofline data (the speed does not depend on where the numbers
// came from, only on the forms, which are both exercised: per-group forms are chosen by CV).
#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "cost_models/correction.h"
#include "cost_models/fit.h"
#include "space/canonical.h"
#include "space/ops.h"
#include "space/rng.h"
#include "space/search_space.h"

namespace {

using namespace hwnas;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 20000;
  auto sp = space::builtin_space("hybrid-vit");
  if (!sp) return 1;
  const space::Sampler sampler(*sp);
  space::Rng rng(42);
  std::vector<space::Candidate> cands;
  for (int i = 0; i < n; ++i) {
    auto c = sampler.sample(rng);
    if (c) cands.push_back(std::move(c).value());
  }
  // Training data: 100 archs' units with a roofline-plus-linear truth (both forms get picked).
  std::vector<cost::UnitSample> units;
  for (std::size_t i = 0; i < 100 && i < cands.size(); ++i) {
    auto net = space::lower(cands[i].arch);
    if (!net) continue;
    for (const auto& u : net->units) {
      cost::UnitSample s{cost::group_of(cands[i].arch, u), cost::unit_features(u, 1), 0, ""};
      s.us = std::max(s.f.roof.macs / 1e5, s.f.roof.bytes / 3e4) + 3 + 1e-3 * s.f.x[5];
      units.push_back(s);
    }
  }
  auto model = cost::fit(units, {}, cost::ModelKey{});
  if (!model) {
    fmt::print(stderr, "{}\n", model.error().message);
    return 1;
  }
  double sink = 0;
  // 1. From an Arch: lower + features + predict (what a search that holds Archs pays).
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& c : cands) sink += *model->predict_us(c.arch);
  const double from_arch_s = seconds_since(t0);
  // 1b. As the search predicts: the model under its online correction, refit from 20 networks.
  cost::Correction correction(*model);
  for (std::size_t i = 0; i < 20 && i < cands.size(); ++i)
    correction.add(cands[i].arch, *model->predict_us(cands[i].arch) * (1.0 + 0.01 * static_cast<double>(i % 7)));
  t0 = std::chrono::steady_clock::now();
  for (const auto& c : cands) sink += correction.corrected_us(c.arch);
  const double corrected_s = seconds_since(t0);
  // 2. From a genome: decode (repair + validate) + lower + predict (a search over genomes).
  t0 = std::chrono::steady_clock::now();
  for (const auto& c : cands) {
    auto d = sampler.repair(c.genome);
    if (d) sink += *model->predict_us(d->arch);
  }
  const double from_genome_s = seconds_since(t0);
  // 3. Where the time goes: decoding alone (repair + validate), lowering alone (as the model does
  // it, into reused storage, and into a new network each time).
  t0 = std::chrono::steady_clock::now();
  for (const auto& c : cands) sink += static_cast<double>(sampler.repair(c.genome)->arch.stages.size());
  const double decode_s = seconds_since(t0);
  space::Lowerer lowerer;
  t0 = std::chrono::steady_clock::now();
  std::size_t units_total = 0;
  for (const auto& c : cands) units_total += (*lowerer.lower(c.arch))->units.size();
  const double lower_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  for (const auto& c : cands) sink += static_cast<double>(space::lower(c.arch)->units.size());
  const double lower_new_s = seconds_since(t0);
  // 4. The model alone on pre-lowered archs.
  std::vector<space::Lowered> lowered;
  for (const auto& c : cands) lowered.push_back(*space::lower(c.arch));
  t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < cands.size(); ++i) sink += model->predict_us(cands[i].arch, lowered[i]);
  const double model_s = seconds_since(t0);
  const auto count = static_cast<double>(cands.size());
  fmt::print("{} archs of hybrid-vit ({:.1f} units each), one thread:\n", cands.size(),
             static_cast<double>(units_total) / count);
  fmt::print("  predict from Arch (lower + features + model): {:>10.0f} archs/s\n", count / from_arch_s);
  fmt::print("  predict as the search does (+ correction):   {:>10.0f} archs/s\n", count / corrected_s);
  fmt::print("  predict from genome (decode + the above):     {:>10.0f} archs/s\n", count / from_genome_s);
  fmt::print("  decode alone (Sampler::repair):               {:>10.0f} archs/s\n", count / decode_s);
  fmt::print("  lowering alone (space::Lowerer, reused):      {:>10.0f} archs/s\n", count / lower_s);
  fmt::print("  lowering alone (space::lower, new network):   {:>10.0f} archs/s\n", count / lower_new_s);
  fmt::print("  model alone (features + model, pre-lowered):  {:>10.0f} archs/s\n", count / model_s);
  fmt::print("(checksum {:.6g})\n", sink);
  return 0;
}
