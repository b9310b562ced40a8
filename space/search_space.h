// Search spaces: per-stage choices (depth, width, head dim, downsample), per-block choices (mixer
// incl. HiLo alpha/window, FFN kind and width) and FinerCut-style per-block sublayer removal.
// A candidate is a genome: one integer per gene, fixed length; genes of blocks beyond the chosen
// depth are inactive. Decoding applies validity repair and yields a validated Arch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "space/arch.h"
#include "space/result.h"
#include "space/rng.h"

namespace hwnas::space {

struct StageSpace {
  std::vector<std::int64_t> depths;
  std::vector<std::int64_t> dims;
  std::vector<std::int64_t> head_dims;  // heads = dim / head_dim
  std::vector<Patch> downsamples;       // ignored for stage 0
  std::vector<Mixer> mixers;
  std::vector<FfnKind> ffn_kinds;
  std::vector<double> ffn_ratios;  // hidden = round(ratio · dim)
  bool removable = false;          // FinerCut: each block may drop its mixer and/or its FFN
  bool pos_embed = false;
  bool norm_out = false;
};

struct SearchSpace {
  std::string name;
  std::string description;
  Arch base;  // input, norm_eps, stem, cls_token, head; its stages are ignored
  std::vector<StageSpace> stages;
};

using Genome = std::vector<std::uint32_t>;

struct Gene {
  std::string name;  // "stages[2].blocks[3].mixer"
  std::uint32_t choices = 1;
};

// The FFN width a ratio of the stage's dim gives: round(ratio · dim), at least 1.
std::int64_t ffn_width(double ratio, std::int64_t dim);

// Gene layout of a space: per stage depth, dim, head_dim, downsample, then per block slot (up to the
// largest depth) mixer, ffn_kind, ffn_ratio, drop_mixer, drop_ffn.
std::vector<Gene> gene_layout(const SearchSpace& space);

struct Candidate {
  Genome genome;  // repaired: decoding it again gives the same arch
  Arch arch;      // validated
};

class Sampler {
 public:
  explicit Sampler(const SearchSpace& space);

  const SearchSpace& space() const { return space_; }
  const std::vector<Gene>& genes() const { return genes_; }

  // Uniform over genes, then repaired. Errors only if no valid arch is found in many tries.
  Result<Candidate> sample(Rng& rng) const;
  // Each gene changes with probability `p` to another value; then repaired.
  Result<Candidate> mutate(const Genome& parent, double p, Rng& rng) const;
  // Uniform crossover: each gene from either parent; then repaired.
  Result<Candidate> crossover(const Genome& a, const Genome& b, Rng& rng) const;
  // Repairs `genome` in place (invalid choices move to the next valid one) and decodes it.
  Result<Candidate> repair(Genome genome) const;

  // log10 of the number of distinct genomes over active genes (an upper bound on distinct
  // architectures: combinations that repair maps together are counted separately).
  double log10_size() const;

 private:
  SearchSpace space_;
  std::vector<Gene> genes_;
};

// Built-in spaces: "hybrid-vit" (the default, around LITv2-S, ~1-8 GMACs at 224) and "tiny" (tests).
std::vector<std::string> builtin_space_names();
Result<SearchSpace> builtin_space(const std::string& name);
Result<SearchSpace> parse_search_space(const std::string& text, const std::string& source);
Result<SearchSpace> load_search_space(const std::string& name_or_file);  // built-in name or JSON file

}  // namespace hwnas::space
