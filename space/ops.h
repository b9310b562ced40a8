// The op table: every op of a lowered network with its shapes, parameters, MACs and bytes. This is
// the one place shapes and counts are defined; backends translate these ops, they never recount.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "space/arch.h"
#include "space/result.h"

namespace hwnas::space {

enum class OpKind : std::uint8_t {
  conv2d,         // dense convolution (patch embed, overlapping conv, SRA reduction, bconv)
  dwconv2d,       // depthwise 3×3 (ConvFFN)
  deform_conv2d,  // DTM's deformable conv: bilinear sampling at learned offsets + conv
  linear,         // y = x·Wᵀ (+ b) over rows (tokens)
  attention,      // softmax(q·kᵀ·scale (+ rel-pos bias))·v, batched over heads (× windows)
  layer_norm,
  batch_norm,
  gelu,
  relu,
  add,               // residual sum or position-embedding add
  avg_pool2d,        // HiLo Lo-Fi key/value pooling
  max_pool1d,        // HVT token pooling
  window_partition,  // Swin/HiLo window split (with Swin's cyclic shift), inverse included
  patch_gather,      // Swin patch merging's 2×2 neighbourhood concat
  pad,               // zero padding to a window multiple (HiLo), cropped back after
  concat,            // cls token prepend / HiLo branch concat
  mean_tokens,       // mean over tokens (head)
  select_token,      // cls token (head)
  kCount
};
std::string_view name_of(OpKind k);

struct ConvShape {
  std::int64_t in_c = 0, out_c = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  std::int64_t kernel = 0, stride = 1, padding = 0, groups = 1;
  bool bias = true;
};
struct LinearShape {
  std::int64_t rows = 0, in = 0, out = 0;
  bool bias = true;
};
struct AttentionShape {
  std::int64_t windows = 1;  // independent windows per image (Swin, HiLo Hi-Fi); 1 for global
  std::int64_t heads = 0;
  std::int64_t q_len = 0, kv_len = 0, head_dim = 0;
  bool rel_pos_bias = false;
  std::int64_t batch() const { return windows * heads; }
};

// A field added here must also be reset in UnitBuilder::start (ops.cc: ops are reused from network
// to network) and compared in ops_test.cc.
struct Op {
  OpKind kind = OpKind::add;
  std::string name;           // dotted, relative to its unit: "attn.qkv", "mlp.fc1", "norm1"
  ConvShape conv;             // conv2d, dwconv2d, deform_conv2d
  LinearShape linear;         // linear
  AttentionShape attn;        // attention
  std::int64_t elements = 0;  // output elements (per image)
  std::int64_t channels = 0;  // last dimension of the output (norms, elementwise, embeddings)
  std::int64_t params = 0;
  std::int64_t macs = 0;        // executed multiply-accumulates (SEEDS §9 primary count)
  std::int64_t paper_macs = 0;  // the source repo's flops() count for this op (SEEDS §9)
  std::int64_t in_bytes = 0;    // activations read (fp32)
  std::int64_t out_bytes = 0;   // activations written (fp32)
  std::int64_t weight_bytes() const { return params * 4; }
};

enum class UnitKind : std::uint8_t { stem, downsample, block, head, kCount };
std::string_view name_of(UnitKind k);

// Token layout between units: a spatial grid h×w (or, after HVT pooling, a plain sequence of n)
// plus `extra` non-spatial tokens (the cls token).
struct Tokens {
  std::int64_t h = 0, w = 0;
  std::int64_t n = 0;  // spatial tokens (h·w while `grid`)
  bool grid = true;
  std::int64_t extra = 0;  // cls token
  std::int64_t total() const { return n + extra; }
};

// A unit is what gets timed on its own: the stem, a downsample, a block, the head.
struct Unit {
  UnitKind kind = UnitKind::block;
  int stage = -1;
  int block = -1;
  std::string label;  // "stem", "stages.1.downsample", "stages.2.blocks.3", "head"
  Tokens in, out;
  std::int64_t in_dim = 0, out_dim = 0;
  std::vector<Op> ops;
  // A block whose mixer and FFN are both removed (FinerCut) has no ops: it passes its input on, costs
  // nothing, and does not count as a unit between others in a network.
  bool runs_nothing() const { return ops.empty(); }
};

// What a unit is, for tables: the stem/downsample kind, the block's mixer, "cls-head"/"mean-head";
// and the block's FFN (empty for other units, " +pool" when it pools).
std::string describe_mixer(const Arch& arch, const Unit& unit);
std::string describe_ffn(const Arch& arch, const Unit& unit);

// Paper-count convention (SEEDS §9): which extra terms a source repo's flops() adds to executed MACs.
struct PaperRules {
  bool layer_norm = false;               // +C·N per LayerNorm of blocks and patch embeds
  bool conv_bias = false;                // +C_out per output position on dwconv, DTM conv and offset conv
  std::int64_t dtm_offset_channels = 8;  // offset conv counted with this many output channels
  bool dtm_batch_norm = false;           // +C_out·H·W for DTM's BatchNorm
  bool final_norm_stage3 = false;        // final norm counted at the stage-3 token count (H₀W₀/2⁴)
  bool merge_norm = false;               // Swin patch merging LN counted as H·W·C (its input)
};
Result<PaperRules> paper_rules(std::string_view convention);

struct Lowered {
  std::vector<Unit> units;
  std::size_t running_units() const {
    std::size_t n = 0;
    for (const Unit& u : units) n += u.runs_nothing() ? 0 : 1;
    return n;
  }
};

// Output grid of a stem/downsample on an h×w input ({0, 0} when the kernel does not fit).
struct Grid {
  std::int64_t h = 0, w = 0;
};
Grid patch_output(const Patch& p, Grid in);

// Shapes and counts for a validated Arch (see validate.h). Checked 64-bit arithmetic: a network
// whose counts overflow is an error, not a wrap-around.
Result<Lowered> lower(const Arch& arch);

// Lowers one arch after another into the same storage: once it has seen a network as large, it
// allocates nothing (the search loop lowers ~10⁵ archs/s). One per thread.
class Lowerer {
 public:
  // The same network as space::lower; valid until the next call.
  Result<const Lowered*> lower(const Arch& arch);

 private:
  friend Result<Lowered> space::lower(const Arch& arch);
  Lowered net_;
  std::vector<Unit> spare_;  // units of longer networks lowered before, kept for their storage
};

}  // namespace hwnas::space
