// Regularized (aging) evolution, Real et al. 2019 (AAAI, "Regularized Evolution for Image
// Classifier Architecture Search"). The population is a queue: each child's parent is the fittest of
// a tournament drawn from it, and each evaluated child pushes out the oldest member, not the worst,
// so that no architecture survives on one lucky figure.
#include <algorithm>
#include <deque>

#include "search/proposer.h"
#include "search/ranking.h"
#include "search/strategies_impl.h"

namespace hwnas::search::detail {
namespace {

class Evolution final : public Strategy {
 public:
  Evolution(const space::Sampler& sampler, const StrategyConfig& cfg)
      : proposer_(sampler, cfg.seed), cfg_(cfg), mutation_p_(proposer_.mutation_p(cfg.mutation_p)) {}

  std::string_view name() const override { return "evolution"; }

  Result<std::vector<space::Candidate>> ask(std::size_t n) override {
    std::vector<space::Candidate> out;
    if (sampled_ < cfg_.population || population_.empty()) {
      // The first `population` proposals are uniform samples.
      const std::size_t left = sampled_ < cfg_.population ? cfg_.population - sampled_ : cfg_.population;
      for (std::size_t i = 0; i < std::min(n, left); ++i) {
        auto c = proposer_.sample();
        if (!c) return c.error();
        out.push_back(std::move(c).value());
      }
      sampled_ += out.size();
      return out;
    }
    // At most half a population of children per ask, all from the population as it stands: even a
    // driver asking for its whole budget gets a steady state in which most members outlive a tell.
    const std::size_t count = std::min(n, std::max<std::size_t>(1, cfg_.population / 2));
    for (std::size_t i = 0; i < count; ++i) {
      const Individual& a = tournament();
      const Individual* b = proposer_.rng().uniform() < cfg_.crossover_p ? &tournament() : nullptr;
      auto c = proposer_.offspring(a.genome, b == nullptr ? nullptr : &b->genome, mutation_p_);
      if (!c) return c.error();
      out.push_back(std::move(c).value());
    }
    return out;
  }

  void tell(std::span<const Individual> evaluated) override {
    for (const Individual& ind : evaluated) {
      population_.push_back(ind);
      while (population_.size() > cfg_.population) population_.pop_front();  // the oldest dies
    }
  }

  void update(const std::function<void(Individual&)>& refresh) override {
    for (Individual& ind : population_) refresh(ind);
  }

 private:
  // The fittest of `tournament` members drawn uniformly with replacement; of equally fit ones the
  // first drawn.
  const Individual& tournament() {
    const auto size = static_cast<std::uint32_t>(population_.size());
    const Individual* best = nullptr;
    for (std::size_t i = 0; i < cfg_.tournament; ++i) {
      const Individual& drawn = population_[proposer_.rng().below(size)];
      if (best == nullptr || fitter(drawn, *best)) best = &drawn;
    }
    return *best;
  }

  Proposer proposer_;
  StrategyConfig cfg_;
  double mutation_p_;
  std::size_t sampled_ = 0;            // uniform samples proposed so far
  std::deque<Individual> population_;  // oldest first
};

}  // namespace

std::unique_ptr<Strategy> make_evolution(const space::Sampler& sampler, const StrategyConfig& cfg) {
  return std::make_unique<Evolution>(sampler, cfg);
}

}  // namespace hwnas::search::detail
