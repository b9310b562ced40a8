#include "search/proposer.h"

#include <optional>
#include <utility>

#include "space/canonical.h"

namespace hwnas::search {
namespace {

std::string hash_of(const space::Candidate& c) {
  return space::hash_hex(space::arch_hash(c.arch));
}

}  // namespace

Proposer::Proposer(const space::Sampler& sampler, std::uint64_t seed) : sampler_(sampler), rng_(seed) {}

bool Proposer::is_new(const space::Candidate& c) const {
  return !proposed_.contains(hash_of(c));
}

space::Candidate Proposer::remember(space::Candidate c) {
  proposed_.insert(hash_of(c));
  return c;
}

Result<space::Candidate> Proposer::sample() {
  std::optional<space::Candidate> last;
  for (int attempt = 0; attempt < kTries; ++attempt) {
    auto c = sampler_.sample(rng_);
    if (!c) return c.error();  // sample() has already tried many genomes
    if (is_new(*c)) return remember(std::move(c).value());
    last = std::move(c).value();
  }
  return remember(std::move(*last));
}

Result<space::Candidate> Proposer::child(const std::function<Result<space::Candidate>()>& make) {
  std::optional<space::Candidate> last;
  for (int attempt = 0; attempt < kTries; ++attempt) {
    auto c = make();
    if (!c) continue;  // a genome repair could not fix: try another child
    if (is_new(*c)) return remember(std::move(c).value());
    last = std::move(c).value();
  }
  // The parents' neighbourhood is used up: a new arch from anywhere in the space teaches more than
  // a repeat, which teaches nothing.
  for (int attempt = 0; attempt < kTries; ++attempt) {
    auto c = sampler_.sample(rng_);
    if (!c) break;
    if (is_new(*c)) return remember(std::move(c).value());
    if (!last) last = std::move(c).value();
  }
  if (!last) return Error{"no valid child or sample in the search space"};
  return remember(std::move(*last));
}

Result<space::Candidate> Proposer::offspring(const space::Genome& a, const space::Genome* b, double mutation_p) {
  return child([&]() -> Result<space::Candidate> {
    if (b == nullptr) return sampler_.mutate(a, mutation_p, rng_);
    auto crossed = sampler_.crossover(a, *b, rng_);
    if (!crossed) return crossed;
    return sampler_.mutate(crossed->genome, mutation_p, rng_);
  });
}

double Proposer::mutation_p(double configured) const {
  if (configured > 0) return configured;
  std::size_t genes = 0;
  for (const space::Gene& g : sampler_.genes())
    if (g.choices > 1) ++genes;
  return genes == 0 ? 1.0 : 1.0 / static_cast<double>(genes);
}

}  // namespace hwnas::search
