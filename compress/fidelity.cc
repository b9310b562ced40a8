#include "compress/fidelity.h"

#include <algorithm>

#include <fmt/format.h>

#include "space/validate.h"

namespace hwnas::compress {

Fidelity::Fidelity(prof::Backend& b, const space::Arch& a, space::Lowered net, const space::WeightSource& w,
                   Calibration c, Distance d, const prof::RunConfig& cfg)
    : backend_(b), arch_(a), net_(std::move(net)), weights_(w), calibration_(std::move(c)), distance_(d), cfg_(cfg) {}

Result<std::unique_ptr<Fidelity>> Fidelity::create(prof::Backend& backend, const space::Arch& arch,
                                                   const space::WeightSource& weights, Calibration calibration,
                                                   Distance distance, const prof::RunConfig& cfg) {
  auto net = space::lower(arch);
  if (!net) return net.error();
  const std::int64_t per = arch.input.channels * arch.input.height * arch.input.width;
  if (calibration.count < 1 || static_cast<std::int64_t>(calibration.images.size()) != calibration.count * per)
    return Error{fmt::format("calibration: {} values for {} inputs of {} values", calibration.images.size(),
                             calibration.count, per)};
  prof::RunConfig c = cfg;
  c.batch = std::clamp<std::int64_t>(c.batch, 1, calibration.count);
  std::unique_ptr<Fidelity> f(
      new Fidelity(backend, arch, std::move(*net), weights, std::move(calibration), distance, c));
  f->batches_ = (f->calibration_.count + c.batch - 1) / c.batch;
  f->base_inputs_.assign(f->net_.units.size(), std::vector<std::vector<float>>(static_cast<std::size_t>(f->batches_)));
  for (std::int64_t i = 0; i < f->batches_; ++i) {
    std::vector<float>& x = f->base_inputs_[0][static_cast<std::size_t>(i)];
    x.assign(static_cast<std::size_t>(c.batch * per), 0.0f);  // a short last batch runs padded with zeros
    const std::int64_t n = std::min(c.batch, f->calibration_.count - i * c.batch);
    const auto* src = f->calibration_.images.data() + i * c.batch * per;
    std::copy(src, src + n * per, x.begin());
  }
  f->base_vars_.assign(f->net_.units.size(), 0);
  auto all = f->run_from(0, f->base_vars_, f->base_inputs_[0], &f->base_inputs_);
  if (!all) return all.error();
  f->original_ = *all;
  f->base_logits_ = std::move(*all);
  return f;
}

std::vector<Fidelity::Variant> Fidelity::variants(const std::vector<Sublayer>& removed) const {
  std::vector<Variant> v(net_.units.size(), 0);
  for (const Sublayer& s : removed) {
    const auto it = std::find_if(net_.units.begin(), net_.units.end(), [&](const space::Unit& u) {
      return u.kind == space::UnitKind::block && u.stage == s.stage && u.block == s.block;
    });
    if (it == net_.units.end()) throw std::logic_error("fidelity: no block for " + label(s));
    v[static_cast<std::size_t>(it - net_.units.begin())] |= s.ffn ? 2 : 1;
  }
  return v;
}

Result<prof::Runnable*> Fidelity::runnable(int unit, Variant v) {
  auto& slot = runnables_[{unit, v}];
  if (!slot) {
    const space::Unit& u = net_.units[static_cast<std::size_t>(unit)];
    std::vector<Sublayer> removed;
    if (v & 1) removed.push_back({u.stage, u.block, false});
    if (v & 2) removed.push_back({u.stage, u.block, true});
    auto arch = space::validate(without(arch_, removed));
    if (!arch) return arch.error();
    auto r = backend_.prepare(*arch, prof::Subject::of_unit(unit), cfg_, weights_);
    if (!r) return Error{fmt::format("{}: {}", u.label, r.error().message)};
    slot = std::move(*r);
  }
  return slot.get();
}

Result<std::vector<float>> Fidelity::run_from(int first, const std::vector<Variant>& vars,
                                              const std::vector<std::vector<float>>& inputs,
                                              std::vector<std::vector<std::vector<float>>>* keep) {
  const std::int64_t classes = arch_.input.classes;
  std::vector<float> logits(static_cast<std::size_t>(calibration_.count * classes));
  const int units = static_cast<int>(net_.units.size());
  for (std::int64_t i = 0; i < batches_; ++i) {
    std::vector<float> x = inputs[static_cast<std::size_t>(i)];
    for (int u = first; u < units; ++u) {
      if (keep != nullptr) (*keep)[static_cast<std::size_t>(u)][static_cast<std::size_t>(i)] = x;
      auto r = runnable(u, vars[static_cast<std::size_t>(u)]);
      if (!r) return r.error();
      (*r)->set_input(x);
      (*r)->run();
      x = (*r)->output();
      ++unit_passes_;
    }
    const std::int64_t n = std::min(cfg_.batch, calibration_.count - i * cfg_.batch);
    std::copy(x.begin(), x.begin() + n * classes, logits.begin() + i * cfg_.batch * classes);
  }
  return logits;
}

namespace {

int first_difference(const std::vector<int>& a, const std::vector<int>& b) {
  const auto it = std::mismatch(a.begin(), a.end(), b.begin()).first;
  return static_cast<int>(it - a.begin());
}

}  // namespace

Status Fidelity::set_base(const std::vector<Sublayer>& removed) {
  const std::vector<Variant> vars = variants(removed);
  const int u0 = first_difference(vars, base_vars_);
  if (u0 == static_cast<int>(vars.size())) return true;
  // run_from copies each batch's input before it writes that batch's activations back, so the
  // base's own activations can be both its input and where it keeps them (no copy of them all).
  auto out = run_from(u0, vars, base_inputs_[static_cast<std::size_t>(u0)], &base_inputs_);
  if (!out) return out.error();
  base_vars_ = vars;
  base_logits_ = std::move(*out);
  return true;
}

Result<std::vector<float>> Fidelity::logits(const std::vector<Sublayer>& removed) {
  const std::vector<Variant> vars = variants(removed);
  const int u0 = first_difference(vars, base_vars_);
  if (u0 == static_cast<int>(vars.size())) return base_logits_;
  return run_from(u0, vars, base_inputs_[static_cast<std::size_t>(u0)], nullptr);
}

Result<double> Fidelity::distance(const std::vector<Sublayer>& removed) {
  auto l = logits(removed);
  if (!l) return l.error();
  return compress::distance(distance_, original_, *l, arch_.input.classes);
}

}  // namespace hwnas::compress
