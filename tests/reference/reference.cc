// run_units: loads each unit's parameters by name and runs every image through the units in order.
#include "tests/reference/reference.h"

#include <stdexcept>
#include <string>

#include "space/params.h"
#include "tests/reference/reference_internal.h"

namespace hwnas::ref {
namespace detail {

UnitParams::UnitParams(const space::Unit& unit, const prof::WeightSource& weights) : label_(unit.label) {
  for (const space::ParamSpec& spec : space::param_specs(unit)) {
    Entry e;
    e.values.assign(static_cast<std::size_t>(spec.numel()), 0.0f);
    weights.fill(spec, e.values);
    if (!params_.emplace(spec.name, std::move(e)).second)
      throw std::logic_error("reference: unit " + label_ + " declares parameter " + spec.name + " twice");
  }
}

std::span<const float> UnitParams::get(const std::string& name, std::int64_t numel) const {
  auto it = params_.find(name);
  if (it == params_.end()) throw std::runtime_error("reference: unit " + label_ + " has no parameter " + name);
  if (it->second.values.size() != static_cast<std::size_t>(numel))
    throw std::runtime_error("reference: parameter " + name + " has " + std::to_string(it->second.values.size()) +
                             " values, the reference expects " + std::to_string(numel));
  it->second.used = true;
  return it->second.values;
}

std::vector<std::string> UnitParams::unused() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : params_)
    if (!e.used) out.push_back(name);
  return out;
}

std::vector<float> apply_linear(const UnitParams& p, const std::string& prefix, std::span<const float> x,
                                std::int64_t rows, std::int64_t in, std::int64_t out, bool bias) {
  auto w = p.get(prefix + ".weight", out * in);
  auto b = bias ? p.get(prefix + ".bias", out) : std::span<const float>{};
  return linear(x, rows, in, w, b, out);
}

std::vector<float> apply_layer_norm(const UnitParams& p, const std::string& prefix, std::span<const float> x,
                                    std::int64_t rows, std::int64_t channels, double eps) {
  return layer_norm(x, rows, channels, p.get(prefix + ".weight", channels), p.get(prefix + ".bias", channels), eps);
}

std::vector<float> apply_batch_norm(const UnitParams& p, const std::string& prefix, std::span<const float> x,
                                    std::int64_t rows, std::int64_t channels) {
  return batch_norm(x, rows, channels, p.get(prefix + ".weight", channels), p.get(prefix + ".bias", channels),
                    p.get(prefix + ".running_mean", channels), p.get(prefix + ".running_var", channels), 1e-5);
}

void add_inplace(std::vector<float>& x, std::span<const float> y) {
  if (x.size() != y.size())
    throw std::invalid_argument("reference: add of " + std::to_string(x.size()) + " and " + std::to_string(y.size()) +
                                " values");
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(static_cast<double>(x[i]) + static_cast<double>(y[i]));
}

}  // namespace detail

namespace {

std::size_t input_size(const space::Arch& arch, const space::Unit& u) {
  if (u.kind == space::UnitKind::stem)
    return static_cast<std::size_t>(arch.input.channels * arch.input.height * arch.input.width);
  return static_cast<std::size_t>(u.in.total() * u.in_dim);
}

std::size_t output_size(const space::Unit& u) {
  if (u.kind == space::UnitKind::head) return static_cast<std::size_t>(u.out_dim);
  return static_cast<std::size_t>(u.out.total() * u.out_dim);
}

}  // namespace

std::vector<float> run_units(const space::Arch& arch, const space::Lowered& net, int first, int last,
                             const prof::WeightSource& weights, std::span<const float> input, std::int64_t batch) {
  const int n_units = static_cast<int>(net.units.size());
  if (first < 0 || last < first || last >= n_units)
    throw std::invalid_argument("reference: unit range [" + std::to_string(first) + ", " + std::to_string(last) +
                                "] is not inside [0, " + std::to_string(n_units - 1) + "]");
  if (batch < 1) throw std::invalid_argument("reference: batch must be at least 1");
  const std::size_t B = static_cast<std::size_t>(batch);
  const std::size_t per_image = input_size(arch, net.units[static_cast<std::size_t>(first)]);
  if (input.size() != B * per_image)
    throw std::invalid_argument("reference: input has " + std::to_string(input.size()) + " values, unit " +
                                net.units[static_cast<std::size_t>(first)].label + " needs " +
                                std::to_string(B * per_image) + " for batch " + std::to_string(batch));
  std::vector<std::vector<float>> acts(B);
  for (std::size_t b = 0; b < B; ++b)
    acts[b].assign(input.begin() + static_cast<std::ptrdiff_t>(b * per_image),
                   input.begin() + static_cast<std::ptrdiff_t>((b + 1) * per_image));
  for (int ui = first; ui <= last; ++ui) {
    const space::Unit& u = net.units[static_cast<std::size_t>(ui)];
    if (ui == 0 && u.kind != space::UnitKind::stem) throw std::invalid_argument("reference: unit 0 is not the stem");
    const detail::UnitParams params(u, weights);
    for (std::size_t b = 0; b < B; ++b) {
      std::vector<float> y;
      switch (u.kind) {
        case space::UnitKind::stem: y = detail::run_stem(arch, u, params, acts[b]); break;
        case space::UnitKind::downsample: y = detail::run_downsample(arch, u, params, acts[b]); break;
        case space::UnitKind::block: y = detail::run_block(arch, u, params, acts[b]); break;
        case space::UnitKind::head: y = detail::run_head(arch, u, params, acts[b]); break;
        case space::UnitKind::kCount: throw std::invalid_argument("reference: bad unit kind");
      }
      if (y.size() != output_size(u))
        throw std::logic_error("reference: unit " + u.label + " produced " + std::to_string(y.size()) +
                               " values, the op table says " + std::to_string(output_size(u)));
      acts[b] = std::move(y);
    }
    if (auto left = params.unused(); !left.empty()) {
      std::string names;
      for (const auto& n : left) names += (names.empty() ? "" : ", ") + n;
      throw std::logic_error("reference: unit " + u.label +
                             " declares parameters the reference does not use: " + names);
    }
  }
  std::vector<float> out;
  out.reserve(B * acts[0].size());
  for (const auto& a : acts) out.insert(out.end(), a.begin(), a.end());
  return out;
}

}  // namespace hwnas::ref
