#include "compress/spvit.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "cost_models/metrics.h"
#include "search/pareto.h"
#include "search/strategy.h"
#include "space/canonical.h"
#include "space/seed_spaces.h"
#include "space/validate.h"

namespace hwnas::compress {

Result<space::SearchSpace> carving_space(const space::Arch& arch, const std::string& name) {
  auto sp = space::seed_space("spvit", arch, name);
  if (!sp) return sp.error();
  for (std::size_t s = 0; s < sp->stages.size(); ++s) {
    for (space::Mixer& m : sp->stages[s].mixers)
      if (m.kind == space::MixerKind::normskip) m = space::Mixer{space::MixerKind::skip};
    // The stage offers blocks[0]'s MSA: every block's must be that one (rel-pos or not alike).
    const auto& blocks = arch.stages[s].blocks;
    for (std::size_t b = 1; b < blocks.size(); ++b)
      if (!(blocks[b].mixer == blocks[0].mixer))
        return Error{
            fmt::format("{}: stages[{}].blocks[{}]: mixer {} differs from blocks[0] ({}); carving needs the "
                        "MSA blocks of a stage alike",
                        name, s, b, space::describe(blocks[b].mixer), space::describe(blocks[0].mixer))};
  }
  sp->name = "carve:" + name;
  sp->description = fmt::format(
      "SPViT carving of {}: per MSA block skip / 1x1 conv / 3x3 conv / MSA, FFN width in eighths of the base", name);
  return sp;
}

namespace {

constexpr int kRounds = 4;

struct Seen {
  space::Arch arch;
  double proxy, ms;
};

std::string mixer_text(const space::Mixer& m) {
  return m.kind == space::MixerKind::bconv ? space::describe(m) : std::string(space::name_of(m.kind));
}

// The distance of a candidate as the sum of its single changes' distances.
class Proxy {
 public:
  void add(int s, int b, const std::string& change, double d) { table_[{s, b, change}] = d; }
  double operator()(const space::Arch& original, const space::Arch& a) const {
    double sum = 0;
    for (std::size_t s = 0; s < a.stages.size(); ++s)
      for (std::size_t b = 0; b < a.stages[s].blocks.size(); ++b) {
        const space::Block &cb = a.stages[s].blocks[b], &ob = original.stages[s].blocks[b];
        if (!(cb.mixer == ob.mixer)) sum += at(static_cast<int>(s), static_cast<int>(b), mixer_text(cb.mixer));
        if (!(cb.ffn == ob.ffn)) sum += at(static_cast<int>(s), static_cast<int>(b), space::describe(cb.ffn));
      }
    return sum;
  }

 private:
  double at(int s, int b, const std::string& change) const {
    const auto it = table_.find({s, b, change});
    if (it == table_.end()) throw std::logic_error(fmt::format("spvit: no sensitivity for {}.{} {}", s, b, change));
    return it->second;
  }
  std::map<std::tuple<int, int, std::string>, double> table_;
};

}  // namespace

std::vector<std::string> block_choices(const space::Arch& a) {
  std::vector<std::string> out;
  for (const space::Stage& st : a.stages)
    for (const space::Block& b : st.blocks) out.push_back(mixer_text(b.mixer) + "/" + space::describe(b.ffn));
  return out;
}

Result<SpvitResult> spvit_search(Fidelity& fidelity, const Carver& carver, const SpvitConfig& cfg) {
  if (!cfg.predict_ms || !(cfg.budget_ms > 0)) return Error{"spvit: a latency model and a budget are required"};
  const space::Arch& original = fidelity.arch();
  auto sp = carving_space(original, original.meta.name.empty() ? "arch" : original.meta.name);
  if (!sp) return sp.error();
  const space::Sampler sampler(*sp);
  SpvitResult res;
  res.original_ms = cfg.predict_ms(original);
  auto progress = [&](std::string_view phase, std::size_t done, std::size_t total) {
    if (cfg.on_progress) cfg.on_progress(phase, done, total);
  };

  // 1. Single changes, from the original.
  Status base = fidelity.set_base(std::vector<Sublayer>{});
  if (!base) return base.error();
  struct Change {
    int s, b;
    space::Arch arch;
    std::string text;
  };
  std::vector<Change> changes;
  for (std::size_t s = 0; s < original.stages.size(); ++s) {
    const space::StageSpace& ss = sp->stages[s];
    for (std::size_t b = 0; b < original.stages[s].blocks.size(); ++b) {
      const space::Block& ob = original.stages[s].blocks[b];
      for (const space::Mixer& m : ss.mixers) {
        if (m == ob.mixer) continue;
        space::Arch a = original;
        a.stages[s].blocks[b].mixer = m;
        changes.push_back({static_cast<int>(s), static_cast<int>(b), std::move(a), mixer_text(m)});
      }
      if (ob.ffn.kind == space::FfnKind::none) continue;
      std::set<std::int64_t> widths;
      for (double ratio : ss.ffn_ratios) {
        space::Arch a = original;
        space::Ffn& f = a.stages[s].blocks[b].ffn;  // as space::Sampler decodes the width
        f.hidden = space::ffn_width(ratio, original.stages[s].dim);
        if (f == ob.ffn || !widths.insert(f.hidden).second) continue;  // two ratios may round alike
        std::string text = space::describe(f);
        changes.push_back({static_cast<int>(s), static_cast<int>(b), std::move(a), std::move(text)});
      }
    }
  }
  Proxy proxy;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    auto a = space::validate(changes[i].arch);
    if (!a) return a.error();
    auto w = carver.weights_for(*a);
    if (!w) return w.error();
    auto d = fidelity.distance(*a, **w);
    if (!d) return d.error();
    ++res.runs;
    proxy.add(changes[i].s, changes[i].b, changes[i].text, *d);
    res.sensitivity.push_back({changes[i].s, changes[i].b, changes[i].text, *d, cfg.predict_ms(*a)});
    progress("sensitivity", i + 1, changes.size());
  }

  // 2–3. NSGA-II on (predicted latency, predicted distance) under the budget divided by the latency
  // correction k; the finalists run for real, measured in the order of their true distance. When
  // none fits, k becomes the mean measured/predicted ratio of every measurement so far, and the
  // search runs again against the tighter budget (at most kRounds times).
  std::map<std::string, Seen> seen;
  std::map<std::string, std::size_t> point_of;  // hash → index into res.points
  auto point = [&](const std::string& hash) -> SpvitPoint& {
    auto [it, fresh] = point_of.emplace(hash, res.points.size());
    if (fresh) {
      const Seen& s = seen.at(hash);
      SpvitPoint p;
      p.arch = s.arch;
      p.blocks = block_choices(p.arch);
      p.proxy = s.proxy;
      p.predicted_ms = s.ms;
      res.points.push_back(std::move(p));
    }
    return res.points[it->second];
  };
  double k = 1;
  std::vector<double> ratios;
  std::vector<std::size_t> finalists_all;
  for (int round = 0; round < kRounds && res.chosen < 0; ++round) {
    const double budget = cfg.budget_ms / k;
    search::StrategyConfig scfg;
    scfg.seed = cfg.seed + static_cast<std::uint64_t>(round);
    scfg.population = cfg.population;
    auto strategy = search::make_strategy("nsga2", sampler, scfg);
    if (!strategy) return strategy.error();
    for (std::size_t g = 0; g <= cfg.generations; ++g) {
      auto asked = (*strategy)->ask(cfg.population);
      if (!asked) return asked.error();
      std::vector<search::Individual> told;
      for (space::Candidate& c : *asked) {
        search::Individual ind;
        ind.genome = c.genome;
        ind.hash = space::hash_hex(space::arch_hash(c.arch));
        auto it = seen.find(ind.hash);
        if (it == seen.end()) {
          const double p = proxy(original, c.arch), ms = cfg.predict_ms(c.arch);
          ++res.proxy_evaluations;
          it = seen.emplace(ind.hash, Seen{std::move(c.arch), p, ms}).first;
        }
        ind.latency_ms = it->second.ms;
        ind.score = -it->second.proxy;
        ind.scored = true;
        ind.violation_ms = std::max(0.0, ind.latency_ms - budget);
        told.push_back(std::move(ind));
      }
      (*strategy)->tell(told);
      progress(round == 0 ? "search" : "search again", g + 1, cfg.generations + 1);
    }

    // Finalists: the feasible candidates with the smallest predicted distance not run yet.
    std::vector<const std::string*> feasible;
    for (const auto& [h, s] : seen)
      if (s.ms <= budget && (point_of.count(h) == 0 || res.points[point_of.at(h)].distance < 0)) feasible.push_back(&h);
    std::stable_sort(feasible.begin(), feasible.end(),
                     [&](const std::string* a, const std::string* b) { return seen.at(*a).proxy < seen.at(*b).proxy; });
    feasible.resize(std::min(feasible.size(), cfg.finalists));
    std::vector<std::size_t> now;
    for (std::size_t i = 0; i < feasible.size(); ++i) {
      SpvitPoint& p = point(*feasible[i]);
      auto w = carver.weights_for(p.arch);
      if (!w) return w.error();
      auto d = fidelity.distance(p.arch, **w);
      if (!d) return d.error();
      ++res.runs;
      p.distance = *d;
      p.round = round;
      now.push_back(point_of.at(*feasible[i]));
      progress(round == 0 ? "finalists" : "finalists again", i + 1, feasible.size());
    }
    finalists_all.insert(finalists_all.end(), now.begin(), now.end());
    std::stable_sort(now.begin(), now.end(),
                     [&](std::size_t a, std::size_t b) { return res.points[a].distance < res.points[b].distance; });
    for (std::size_t i : now) {
      SpvitPoint& p = res.points[i];
      if (cfg.measure_ms) {
        p.measured_ms = cfg.measure_ms(p.arch);
        ratios.push_back(p.measured_ms / p.predicted_ms);
        if (p.measured_ms > cfg.budget_ms) continue;
      }
      res.chosen = static_cast<int>(i);
      break;
    }
    if (!ratios.empty())
      k = std::max(k, std::accumulate(ratios.begin(), ratios.end(), 0.0) / static_cast<double>(ratios.size()));
    res.latency_correction = k;
    res.rounds = round + 1;
  }

  // The proxy front over everything evaluated.
  {
    std::vector<const std::string*> hashes;
    std::vector<search::Point> pts;
    for (const auto& [h, s] : seen) {
      hashes.push_back(&h);
      pts.push_back({s.ms, -s.proxy});
    }
    for (std::size_t i : search::pareto_front(pts)) point(*hashes[i]).on_front = true;
  }
  std::vector<double> px, tr;
  for (std::size_t i : finalists_all) {
    px.push_back(res.points[i].proxy);
    tr.push_back(res.points[i].distance);
  }
  res.proxy_spearman = cost::spearman_rho(px, tr);
  std::vector<std::size_t> order(res.points.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return res.points[a].predicted_ms < res.points[b].predicted_ms;
  });
  std::vector<SpvitPoint> sorted;
  int chosen = -1;
  for (std::size_t i : order) {
    if (static_cast<int>(i) == res.chosen) chosen = static_cast<int>(sorted.size());
    sorted.push_back(std::move(res.points[i]));
  }
  res.points = std::move(sorted);
  res.chosen = chosen;
  return res;
}

}  // namespace hwnas::compress
