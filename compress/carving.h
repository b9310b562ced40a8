// SPViT carving without training (SEEDS.md §4; issue: compression, item 3). For every MSA block of a
// trained network, the 1×1 and 3×3 bottleneck convolutions SPViT nests in that layer's own value and
// projection weights, and a ranking of its FFN's hidden neurons, all from one pass of the original
// network over the calibration inputs.
//
// Head-to-tap assignment P. SPViT learns P (softmax over heads per tap). Without training it is read
// off the attention itself: for every head h and tap k of the 3×3 neighbourhood, the mean attention
// weight that a spatial query gives the key at that offset (queries whose neighbour lies outside the
// map left out); each tap goes to the head that attends most to it (P one-hot). Cordonnier et al.,
// "On the relationship between self-attention and convolutional layers" (ICLR 2020), show that an
// MSA head attending to a fixed relative offset is exactly one tap of a convolution: a layer whose
// heads do so is reproduced by the carved 3×3 conv (compress/carving_test.cc constructs one).
//
// The carved conv (kernel[:, :, kh, kw] = Wv_{h(k)} for k = 3·kw + kh, bias Σ_k bv_{h(k)}; the 1×1
// uses the centre tap k = 4) is followed by BatchNorm + ReLU and Linear(d → D) with weight
// Σ_k Wproj[:, h(k)] and the MSA's projection bias. BatchNorm, trained in SPViT, is set from the
// calibration statistics of the conv's output z instead:
//   - running mean/var are z's mean and variance over the calibration tokens;
//   - its affine map z → a∘z + e (per channel) is the least-squares fit of the carved branch to the
//     MSA's own output over the calibration tokens (min Σ‖t − Wp·(a∘z + e)‖², t = MSA output minus
//     its projection bias; a 2d × 2d linear system, ridge-regularised towards a = 1, e = 0);
//   - a shift s ≥ 0 per channel keeps a∘z + e + s positive 3 standard deviations below the smallest
//     calibration value, so ReLU passes what the calibration saw; the projection bias takes −Wp·s
//     back. The carved branch is then the fitted linear map on everything near the calibration data.
// FFN neurons are ranked by the norm of what removing them loses over the calibration tokens,
// ‖a_j − mean(a_j)‖₂·‖W2[:, j]‖₂ (a_j: the neuron's GELU output; SPViT's learned gate replaced by
// this score): a narrower FFN keeps the top neurons (in their original order), and the removed
// ones' mean contribution Σ_j W2[:, j]·mean(a_j) moves into fc2's bias, so a neuron of constant
// output goes first and for free.
//
// Statistics are those of the original network (each layer carved on its own inputs). Memory: the
// inputs, values and MSA outputs of one layer over all calibration inputs at a time (about
// 3·count·tokens·dim floats).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compress/fidelity.h"
#include "space/arch.h"
#include "space/result.h"
#include "space/weight_source.h"

namespace hwnas::compress {

inline constexpr int kTaps = 9;
// Tap k of SPViT's 3×3 kernel sits at kernel[:, :, kh, kw] with k = 3·kw + kh; its offset from the
// centre token is (dy, dx) = (kh − 1, kw − 1).
struct TapOffset {
  int dy = 0, dx = 0;
};
TapOffset tap_offset(int k);

// The tensors of one carved `bconv` mixer, in params.h layouts (names after "attn.").
struct CarvedConv {
  std::int64_t kernel = 3;
  std::vector<float> conv_weight, conv_bias;               // [d, D, k, k], [d]
  std::vector<float> bn_weight, bn_bias, bn_mean, bn_var;  // [d] each
  std::vector<float> proj_weight, proj_bias;               // [D, d], [D]
  // ‖t − Wp·(a∘z + e)‖ / ‖t‖ over the spatial calibration tokens (t: the MSA's output without its
  // projection bias; the fitted linear branch, ReLU passing). The cls token is not carved (SPViT's
  // conv passes it by: it gets LN(x_cls) added instead of the MSA's output).
  double fit_error = 0;
};

struct FfnRanking {
  std::vector<std::int64_t> order;  // neurons by score, highest first (ties: lower index first)
  std::vector<double> score;        // ‖a_j − mean(a_j)‖·‖W2[:, j]‖ per neuron
  std::vector<double> mean;         // mean GELU output per neuron
};

struct LayerCarving {
  int stage = 0, block = 0;
  std::int64_t heads = 0;
  std::vector<double> attention;  // [heads × 9]: mean attention weight a query gives tap k
  std::array<int, kTaps> tap_head{};
  CarvedConv conv1, conv3;
  bool ffn_ranked = false;  // an MLP FFN (other FFN kinds keep their width)
  FfnRanking ffn;
};

// Whether `target` is `original` carved: the same network but for its blocks' mixers and FFNs
// (input, norm eps, stem, cls token, head; stages' depth, dim, heads, downsample, pos_embed,
// norm_out; token pooling), every block's mixer the original's, or skip / normskip, or bconv where the original
// has MSA; every FFN the original's, none, or a narrower MLP of an MLP. The error names the block.
Status check_carving_target(const space::Arch& original, const space::Arch& target);

class Carver {
 public:
  // One pass over the calibration inputs (fidelity's original activations; its base must be the
  // original) for every block whose mixer is MSA on a token grid. `on_layer(done, total)` reports
  // progress. An error when the network has no such block.
  static Result<std::unique_ptr<Carver>> create(const Fidelity& fidelity, const space::WeightSource& original,
                                                const std::function<void(int, int)>& on_layer = {});

  const std::vector<LayerCarving>& layers() const { return layers_; }
  const LayerCarving* layer(int stage, int block) const;
  const space::Arch& original() const { return arch_; }

  // The weights of `candidate`: the original with some MSA mixers replaced by `bconv` (1 or 3; the
  // carved tensors), `skip` or `normskip`, and some MLP FFNs narrowed (the top-ranked neurons). A
  // block's tensors depend on its mixer and FFN only (as Fidelity requires). The source refers to
  // this Carver and must not outlive it.
  Result<std::unique_ptr<space::WeightSource>> weights_for(const space::Arch& candidate) const;

  // The original tensor named `name` (hwnas names).
  std::vector<float> tensor(const std::string& name) const;

 private:
  Carver(const space::Arch& a, const space::WeightSource& w);
  friend class CarvedWeights;
  space::Arch arch_;
  const space::WeightSource& original_;
  std::map<std::string, space::ParamSpec> specs_;
  std::vector<LayerCarving> layers_;
};

}  // namespace hwnas::compress
