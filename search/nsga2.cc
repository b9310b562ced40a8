// NSGA-II (Deb et al. 2002) with constrained domination (Deb 2000): parents by binary tournament
// on (front, crowding distance), children by crossover and mutation, and the next population as the
// best `population` of parents ∪ children, front by front, the last front cut by crowding distance.
#include <algorithm>
#include <numeric>

#include "search/pareto.h"
#include "search/proposer.h"
#include "search/ranking.h"
#include "search/strategies_impl.h"

namespace hwnas::search::detail {
namespace {

class Nsga2 final : public Strategy {
 public:
  Nsga2(const space::Sampler& sampler, const StrategyConfig& cfg)
      : proposer_(sampler, cfg.seed), cfg_(cfg), mutation_p_(proposer_.mutation_p(cfg.mutation_p)) {}

  std::string_view name() const override { return "nsga2"; }

  Result<std::vector<space::Candidate>> ask(std::size_t n) override {
    std::vector<space::Candidate> out;
    if (sampled_ < cfg_.population || population_.empty()) {
      // The first population: uniform samples.
      const std::size_t left = sampled_ < cfg_.population ? cfg_.population - sampled_ : cfg_.population;
      for (std::size_t i = 0; i < std::min(n, left); ++i) {
        auto c = proposer_.sample();
        if (!c) return c.error();
        out.push_back(std::move(c).value());
      }
      sampled_ += out.size();
      return out;
    }
    // One generation of offspring (fewer when the budget is running out).
    const std::size_t count = std::min(n, cfg_.population);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t a = tournament();
      const bool cross = proposer_.rng().uniform() < cfg_.crossover_p;
      const space::Genome* b = cross ? &population_[tournament()].genome : nullptr;
      auto c = proposer_.offspring(population_[a].genome, b, mutation_p_);
      if (!c) return c.error();
      out.push_back(std::move(c).value());
    }
    return out;
  }

  void tell(std::span<const Individual> evaluated) override {
    population_.insert(population_.end(), evaluated.begin(), evaluated.end());
    survive();
  }

  void update(const std::function<void(Individual&)>& refresh) override {
    for (Individual& ind : population_) refresh(ind);
    derive();
  }

 private:
  // Binary tournament, the two drawn distinct when possible: the lower front wins, then the larger
  // crowding distance, then the first drawn.
  std::size_t tournament() {
    const auto size = static_cast<std::uint32_t>(population_.size());
    const std::size_t i = proposer_.rng().below(size);
    if (size < 2) return i;
    std::size_t j = proposer_.rng().below(size - 1);
    if (j >= i) ++j;
    if (rank_[j] != rank_[i]) return rank_[j] < rank_[i] ? j : i;
    return crowding_[j] > crowding_[i] ? j : i;
  }

  // Keeps the best `population` of the merged parents and children: whole fronts while they fit,
  // then the most isolated members (largest crowding distance) of the front that does not.
  void survive() {
    if (population_.size() > cfg_.population) {
      const std::vector<Point> points = points_of(population_);
      std::vector<Individual> next;
      next.reserve(cfg_.population);
      for (const auto& front : constrained_fronts(population_)) {
        if (next.size() + front.size() <= cfg_.population) {
          for (std::size_t i : front) next.push_back(std::move(population_[i]));
          continue;
        }
        const std::vector<double> distance = crowding_distance(points, front);
        std::vector<std::size_t> order(front.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t x, std::size_t y) { return distance[x] > distance[y]; });
        order.resize(cfg_.population - next.size());
        for (std::size_t k : order) next.push_back(std::move(population_[front[k]]));
        break;
      }
      population_ = std::move(next);
    }
    derive();
  }

  // Front index and crowding distance of each member, for the tournaments.
  void derive() {
    const std::vector<Point> points = points_of(population_);
    rank_.assign(population_.size(), 0);
    crowding_.assign(population_.size(), 0);
    const auto fronts = constrained_fronts(population_);
    for (std::size_t r = 0; r < fronts.size(); ++r) {
      const std::vector<double> distance = crowding_distance(points, fronts[r]);
      for (std::size_t k = 0; k < fronts[r].size(); ++k) {
        rank_[fronts[r][k]] = r;
        crowding_[fronts[r][k]] = distance[k];
      }
    }
  }

  static std::vector<Point> points_of(const std::vector<Individual>& pop) {
    std::vector<Point> points;
    points.reserve(pop.size());
    for (const Individual& ind : pop) points.push_back(ind.point());
    return points;
  }

  Proposer proposer_;
  StrategyConfig cfg_;
  double mutation_p_;
  std::size_t sampled_ = 0;  // uniform samples proposed so far
  std::vector<Individual> population_;
  std::vector<std::size_t> rank_;  // front of each member under constrained domination
  std::vector<double> crowding_;   // its crowding distance within that front
};

}  // namespace

std::unique_ptr<Strategy> make_nsga2(const space::Sampler& sampler, const StrategyConfig& cfg) {
  return std::make_unique<Nsga2>(sampler, cfg);
}

}  // namespace hwnas::search::detail
