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
  auto vars = f->variants(arch);
  if (!vars) return vars.error();
  f->original_vars_ = *vars;
  f->base_vars_ = *vars;
  auto all = f->run_from(0, f->base_vars_, arch, weights, f->base_inputs_[0], &f->base_inputs_);
  if (!all) return all.error();
  f->original_ = *all;
  f->base_logits_ = std::move(*all);
  return f;
}

std::int64_t Fidelity::rows_in(std::int64_t batch_index) const {
  return std::min(cfg_.batch, calibration_.count - batch_index * cfg_.batch);
}

const std::vector<std::vector<float>>& Fidelity::original_inputs(int unit) const {
  if (!base_is_original()) throw std::logic_error("fidelity: the base is no longer the original");
  return base_inputs_.at(static_cast<std::size_t>(unit));
}

namespace {

std::string tokens_text(const space::Tokens& t) {
  return fmt::format("{}x{}/{}+{}", t.h, t.w, t.n, t.extra);
}

}  // namespace

Result<std::vector<Fidelity::Variant>> Fidelity::variants(const space::Arch& candidate) const {
  auto net = space::lower(candidate);
  if (!net) return net.error();
  if (net->units.size() != net_.units.size())
    return Error{fmt::format("candidate: {} units, the original has {}", net->units.size(), net_.units.size())};
  std::vector<Variant> v(net_.units.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const space::Unit &a = net->units[i], &o = net_.units[i];
    if (a.label != o.label || a.in_dim != o.in_dim || a.out_dim != o.out_dim ||
        tokens_text(a.in) != tokens_text(o.in) || tokens_text(a.out) != tokens_text(o.out))
      return Error{fmt::format("candidate: unit {} ({}) differs from the original's ({}) in its place or shapes", i,
                               a.label, o.label)};
    if (a.kind != space::UnitKind::block) continue;
    const space::Block& b =
        candidate.stages[static_cast<std::size_t>(a.stage)].blocks[static_cast<std::size_t>(a.block)];
    v[i] = fmt::format("{}|{}{}", space::describe(b.mixer), space::describe(b.ffn), b.pool_after ? "|pool" : "");
  }
  return v;
}

Result<prof::Runnable*> Fidelity::runnable(int unit, const Variant& v, const space::Arch& candidate,
                                           const space::WeightSource& weights) {
  auto& slot = runnables_[{unit, v}];
  if (!slot) {
    auto r = backend_.prepare(candidate, prof::Subject::of_unit(unit), cfg_, weights);
    if (!r) return Error{fmt::format("{}: {}", net_.units[static_cast<std::size_t>(unit)].label, r.error().message)};
    slot = std::move(*r);
  }
  return slot.get();
}

Result<std::vector<float>> Fidelity::run_from(int first, const std::vector<Variant>& vars, const space::Arch& candidate,
                                              const space::WeightSource& weights,
                                              const std::vector<std::vector<float>>& inputs,
                                              std::vector<std::vector<std::vector<float>>>* keep) {
  const std::int64_t classes = arch_.input.classes;
  std::vector<float> logits(static_cast<std::size_t>(calibration_.count * classes));
  const int units = static_cast<int>(net_.units.size());
  for (std::int64_t i = 0; i < batches_; ++i) {
    std::vector<float> x = inputs[static_cast<std::size_t>(i)];
    for (int u = first; u < units; ++u) {
      if (keep != nullptr) (*keep)[static_cast<std::size_t>(u)][static_cast<std::size_t>(i)] = x;
      auto r = runnable(u, vars[static_cast<std::size_t>(u)], candidate, weights);
      if (!r) return r.error();
      (*r)->set_input(x);
      (*r)->run();
      x = (*r)->output();
      ++unit_passes_;
    }
    const std::int64_t n = rows_in(i);
    std::copy(x.begin(), x.begin() + n * classes, logits.begin() + i * cfg_.batch * classes);
  }
  return logits;
}

namespace {

int first_difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  const auto it = std::mismatch(a.begin(), a.end(), b.begin()).first;
  return static_cast<int>(it - a.begin());
}

}  // namespace

Status Fidelity::set_base(const space::Arch& candidate, const space::WeightSource& weights) {
  auto vars = variants(candidate);
  if (!vars) return vars.error();
  const int u0 = first_difference(*vars, base_vars_);
  if (u0 == static_cast<int>(vars->size())) return true;
  // run_from copies each batch's input before it writes that batch's activations back, so the
  // base's own activations can be both its input and where it keeps them (no copy of them all).
  auto out = run_from(u0, *vars, candidate, weights, base_inputs_[static_cast<std::size_t>(u0)], &base_inputs_);
  if (!out) return out.error();
  base_vars_ = std::move(*vars);
  base_logits_ = std::move(*out);
  return true;
}

Result<std::vector<float>> Fidelity::logits(const space::Arch& candidate, const space::WeightSource& weights) {
  auto vars = variants(candidate);
  if (!vars) return vars.error();
  const int u0 = first_difference(*vars, base_vars_);
  if (u0 == static_cast<int>(vars->size())) return base_logits_;
  return run_from(u0, *vars, candidate, weights, base_inputs_[static_cast<std::size_t>(u0)], nullptr);
}

Result<double> Fidelity::distance(const space::Arch& candidate, const space::WeightSource& weights) {
  auto l = logits(candidate, weights);
  if (!l) return l.error();
  return compress::distance(distance_, original_, *l, arch_.input.classes);
}

namespace {

Result<space::Arch> pruned(const space::Arch& arch, const std::vector<Sublayer>& removed) {
  for (const Sublayer& s : removed)
    if (s.stage < 0 || s.stage >= static_cast<int>(arch.stages.size()) || s.block < 0 ||
        s.block >= static_cast<int>(arch.stages[static_cast<std::size_t>(s.stage)].blocks.size()))
      throw std::logic_error("fidelity: no block for " + label(s));
  return space::validate(without(arch, removed));
}

}  // namespace

Status Fidelity::set_base(const std::vector<Sublayer>& removed) {
  auto a = pruned(arch_, removed);
  if (!a) return a.error();
  return set_base(*a, weights_);
}

Result<std::vector<float>> Fidelity::logits(const std::vector<Sublayer>& removed) {
  auto a = pruned(arch_, removed);
  if (!a) return a.error();
  return logits(*a, weights_);
}

Result<double> Fidelity::distance(const std::vector<Sublayer>& removed) {
  auto a = pruned(arch_, removed);
  if (!a) return a.error();
  return distance(*a, weights_);
}

}  // namespace hwnas::compress
