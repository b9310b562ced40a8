// What every strategy shares: the sampler, the one Rng all its draws come from, and the hashes it
// has proposed, so that it proposes an arch twice only when no new one turns up.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>

#include "space/result.h"
#include "space/rng.h"
#include "space/search_space.h"

namespace hwnas::search {

class Proposer {
 public:
  // Attempts per proposal at a new arch before a repeat is accepted.
  static constexpr int kTries = 50;

  Proposer(const space::Sampler& sampler, std::uint64_t seed);

  space::Rng& rng() { return rng_; }

  // A uniform sample, new if one is found in kTries draws (else the last draw).
  Result<space::Candidate> sample();
  // A child of `a`, or of `a` and `b` when `b` is given: mutation, or uniform crossover then
  // mutation. New if one is found in kTries children of these parents; else a new uniform sample if
  // one is found in kTries draws; else the last child made.
  Result<space::Candidate> offspring(const space::Genome& a, const space::Genome* b, double mutation_p);

  // The per-gene mutation probability: `configured`, or 1 / (genes with a choice) when it is 0.
  double mutation_p(double configured) const;

 private:
  Result<space::Candidate> child(const std::function<Result<space::Candidate>()>& make);
  bool is_new(const space::Candidate& c) const;
  space::Candidate remember(space::Candidate c);

  space::Sampler sampler_;
  space::Rng rng_;
  std::unordered_set<std::string> proposed_;  // membership only: never iterated
};

}  // namespace hwnas::search
