// Shared by the engine-vs-reference tests: run a unit (or the whole network) through an engine (the
// oneDNN one unless told) and the naive reference with the same weights and input, and compare.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "profilers/onednn/onednn_backend.h"
#include "reference/reference.h"
#include "space/ops.h"
#include "space/rng.h"

namespace hwnas {

inline std::vector<float> random_input(std::size_t n, std::uint64_t seed) {
  space::Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.uniform() * 2 - 1);
  return v;
}

// max |a - b| / max |ref|
inline double relative_error(const std::vector<float>& got, const std::vector<float>& ref) {
  EXPECT_EQ(got.size(), ref.size());
  double err = 0, mag = 1e-30;
  for (std::size_t i = 0; i < std::min(got.size(), ref.size()); ++i) {
    err = std::max(err, std::abs(static_cast<double>(got[i]) - ref[i]));
    mag = std::max(mag, std::abs(static_cast<double>(ref[i])));
    if (!std::isfinite(got[i])) return HUGE_VAL;
  }
  return err / mag;
}

inline std::size_t numel(const std::vector<std::int64_t>& shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

struct Engine {
  prof::OnednnBackend backend{0};
  prof::RandomWeights weights{1234};
};

inline Engine& engine() {
  static Engine e;
  return e;
}

// Unit u alone (or the whole network when u < 0) through `backend` and the reference.
inline double compare_on(prof::Backend& backend, const space::Arch& arch, int u, prof::DType dtype, std::int64_t batch,
                         std::int64_t chunk = 0) {
  auto net = space::lower(arch);
  EXPECT_TRUE(net.ok());
  prof::RunConfig cfg;
  cfg.batch = batch;
  cfg.dtype = dtype;
  cfg.chunk = chunk;
  auto run = backend.prepare(arch, u < 0 ? prof::Subject::network() : prof::Subject::of_unit(u), cfg, engine().weights);
  EXPECT_TRUE(run.ok()) << (run.ok() ? "" : run.error().message);
  if (!run.ok()) return HUGE_VAL;
  const auto input = random_input(numel((*run)->input_shape()), 77 + static_cast<std::uint64_t>(u + 1));
  (*run)->set_input(input);
  (*run)->run();
  const std::vector<float> got = (*run)->output();
  const int first = u < 0 ? 0 : u;
  const int last = u < 0 ? static_cast<int>(net->units.size()) - 1 : u;
  const std::vector<float> ref = ref::run_units(arch, *net, first, last, engine().weights, input, batch);
  return relative_error(got, ref);
}

inline double compare(const space::Arch& arch, int u, prof::DType dtype, std::int64_t batch, std::int64_t chunk = 0) {
  return compare_on(engine().backend, arch, u, dtype, batch, chunk);
}

}  // namespace hwnas
