// The architecture IR: input → stem → stages (downsample + blocks) → head. A block is a token mixer
// and an FFN, each in a residual. Exact block definitions: shared/SEEDS.md; layout: DESIGN.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hwnas::space {

// Token mixers. `skip` removes the sublayer (FinerCut: identity); `normskip` is SPViT's skip as
// coded (x + LN(x)); `none` is an attention-free block (LIT/LITv2 early stages).
enum class MixerKind : std::uint8_t { none, skip, normskip, msa, hilo, window, sra, bconv, kCount };
enum class FfnKind : std::uint8_t { none, mlp, convffn, kCount };
// Stems and downsamples: plain patch conv {k, s}, overlapping conv {k, s, pad} (PVTv2), Swin patch
// merging (2×2 concat → LN → Linear), LIT's deformable token merging.
enum class PatchKind : std::uint8_t { none, patch, overlap, merge, dtm, kCount };
enum class HeadKind : std::uint8_t { mean, cls, kCount };

std::string_view name_of(MixerKind k);
std::string_view name_of(FfnKind k);
std::string_view name_of(PatchKind k);
std::string_view name_of(HeadKind k);
std::optional<MixerKind> mixer_kind_from(std::string_view s);
std::optional<FfnKind> ffn_kind_from(std::string_view s);
std::optional<PatchKind> patch_kind_from(std::string_view s);
std::optional<HeadKind> head_kind_from(std::string_view s);

struct Mixer {
  MixerKind kind = MixerKind::none;
  bool msa_rel_pos = false;       // msa: relative position bias over the whole map (LIT stages 3–4)
  double hilo_alpha = 0.9;        // hilo: share of Lo-Fi heads, l = int(heads·alpha)
  std::int64_t hilo_window = 2;   // hilo: s (1 = plain MSA, all heads Lo-Fi)
  std::int64_t window_size = 7;   // window: side of the square window (Swin)
  bool window_shift = false;      // window: shifted by size/2 (Swin's odd blocks)
  std::int64_t sra_ratio = 1;     // sra: spatial-reduction ratio of keys/values (PVTv2)
  std::int64_t bconv_kernel = 3;  // bconv: 1 or 3 (SPViT bottleneck conv carved from MSA)

  bool operator==(const Mixer&) const = default;
};

struct Ffn {
  FfnKind kind = FfnKind::mlp;
  std::int64_t hidden = 0;  // hidden width (mlp, convffn)

  bool operator==(const Ffn&) const = default;
};

struct Block {
  Mixer mixer;
  Ffn ffn;
  bool pool_after = false;  // HVT: MaxPool1d(3, 2) over tokens after this block + new position embedding

  bool operator==(const Block&) const = default;
};

struct Patch {
  PatchKind kind = PatchKind::none;
  std::int64_t kernel = 0;
  std::int64_t stride = 0;
  std::int64_t padding = 0;
  bool norm = false;  // LayerNorm after the conv (patch, overlap); merge always normalises first

  bool operator==(const Patch&) const = default;
};

struct Stage {
  std::int64_t dim = 0;
  std::int64_t heads = 1;
  Patch downsample;        // none for stage 0 (the stem makes its input)
  bool pos_embed = false;  // learned absolute position embedding added at the stage start
  bool norm_out = false;   // LayerNorm after the stage's last block (PVTv2)
  std::vector<Block> blocks;

  bool operator==(const Stage&) const = default;
};

struct Head {
  HeadKind kind = HeadKind::mean;
  bool norm = true;  // LayerNorm before pooling

  bool operator==(const Head&) const = default;
};

struct Input {
  std::int64_t height = 224;
  std::int64_t width = 224;
  std::int64_t channels = 3;
  std::int64_t classes = 1000;

  bool operator==(const Input&) const = default;
};

// Descriptive data that does not change what is computed; never part of the canonical text or hash.
struct Meta {
  std::string name;
  std::string paper_count;     // convention of the source repo's flops(): "", "litv2", "lit", "swin"
  std::optional<double> top1;  // published ImageNet top-1, where known
  std::string source;          // where the definition comes from

  bool operator==(const Meta&) const = default;
};

struct Arch {
  Input input;
  double norm_eps = 1e-6;
  // eps of the LayerNorms after a patch/overlap conv (stem, downsamples) and of SRA's reduction
  // norm, where the source differs (PVTv2: plain nn.LayerNorm, 1e-5); empty = norm_eps.
  std::optional<double> embed_norm_eps;
  Patch stem;
  bool cls_token = false;
  std::vector<Stage> stages;
  Head head;
  Meta meta;

  double embed_eps() const { return embed_norm_eps.value_or(norm_eps); }
  // Equality of computation (ignores meta).
  bool same_network(const Arch& o) const {
    return input == o.input && norm_eps == o.norm_eps && embed_norm_eps == o.embed_norm_eps && stem == o.stem &&
           cls_token == o.cls_token && stages == o.stages && head == o.head;
  }
};

// Short human-readable forms for tables: "hilo(a=0.9,s=2)", "convffn(384)", "dtm".
std::string describe(const Mixer& m);
std::string describe(const Ffn& f);
std::string describe(const Patch& p);

// Number of Lo-Fi heads of a HiLo layer (SEEDS §1: truncation; s == 1 → all heads).
std::int64_t hilo_lofi_heads(std::int64_t heads, double alpha, std::int64_t window);

}  // namespace hwnas::space
