// Random search: uniform samples of the space, new ones while they can be found. The baseline the
// other strategies must beat at equal evaluation counts.
#include <algorithm>

#include "search/proposer.h"
#include "search/strategies_impl.h"

namespace hwnas::search::detail {
namespace {

class RandomSearch final : public Strategy {
 public:
  RandomSearch(const space::Sampler& sampler, const StrategyConfig& cfg)
      : proposer_(sampler, cfg.seed), batch_(cfg.population) {}

  std::string_view name() const override { return "random"; }

  Result<std::vector<space::Candidate>> ask(std::size_t n) override {
    std::vector<space::Candidate> out;
    const std::size_t count = std::min(n, batch_);
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      auto c = proposer_.sample();
      if (!c) return c.error();
      out.push_back(std::move(c).value());
    }
    return out;
  }

  // Nothing learnt, nothing held.
  void tell(std::span<const Individual> /*evaluated*/) override {}
  void update(const std::function<void(Individual&)>& /*refresh*/) override {}

 private:
  Proposer proposer_;
  std::size_t batch_;
};

}  // namespace

std::unique_ptr<Strategy> make_random(const space::Sampler& sampler, const StrategyConfig& cfg) {
  return std::make_unique<RandomSearch>(sampler, cfg);
}

}  // namespace hwnas::search::detail
