#include "space/presets.h"

#include <filesystem>
#include <functional>

#include <fmt/format.h>

#include "space/arch_json.h"
#include "space/json_reader.h"
#include "space/suggest.h"
#include "space/validate.h"

namespace hwnas::space {
namespace {

Patch patch(std::int64_t k, bool norm) {
  return Patch{PatchKind::patch, k, k, 0, norm};
}
Patch overlap(std::int64_t k, std::int64_t s) {
  return Patch{PatchKind::overlap, k, s, k / 2, true};
}
Patch kind(PatchKind k) {
  return Patch{k, k == PatchKind::none ? 0 : 2, k == PatchKind::none ? 0 : 2, 0, false};
}

Mixer mixer(MixerKind k) {
  Mixer m;
  m.kind = k;
  return m;
}
Mixer msa(bool rel_pos = false) {
  Mixer m = mixer(MixerKind::msa);
  m.msa_rel_pos = rel_pos;
  return m;
}
Mixer hilo(double alpha, std::int64_t window) {
  Mixer m = mixer(MixerKind::hilo);
  m.hilo_alpha = alpha;
  m.hilo_window = window;
  return m;
}
Mixer window(std::int64_t size, bool shift) {
  Mixer m = mixer(MixerKind::window);
  m.window_size = size;
  m.window_shift = shift;
  return m;
}
Mixer sra(std::int64_t ratio) {
  Mixer m = mixer(MixerKind::sra);
  m.sra_ratio = ratio;
  return m;
}
Mixer bconv(std::int64_t kernel) {
  Mixer m = mixer(MixerKind::bconv);
  m.bconv_kernel = kernel;
  return m;
}
Ffn ffn(FfnKind k, std::int64_t hidden) {
  return Ffn{k, hidden};
}

Stage stage(std::int64_t dim, std::int64_t heads, Patch down, std::vector<Block> blocks) {
  Stage s;
  s.dim = dim;
  s.heads = heads;
  s.downsample = down;
  s.blocks = std::move(blocks);
  return s;
}

Meta meta(std::string name, std::string paper, double top1, std::string source) {
  return Meta{std::move(name), std::move(paper), top1, std::move(source)};
}

// DeiT (timm vision_transformer): patch16, cls token + absolute position, MSA + MLP(4D), cls head.
Arch deit(std::int64_t dim, std::int64_t heads, Meta m) {
  Arch a;
  a.norm_eps = 1e-6;
  a.stem = patch(16, false);
  a.cls_token = true;
  Stage s =
      stage(dim, heads, kind(PatchKind::none), std::vector<Block>(12, Block{msa(), ffn(FfnKind::mlp, 4 * dim), false}));
  s.pos_embed = true;
  a.stages = {s};
  a.head = Head{HeadKind::cls, true};
  a.meta = std::move(m);
  return a;
}

// SPViT-searched DeiT (SEEDS §4): per-block op choice (1 = 1×1 conv, 3 = 3×3 conv, 0 = MSA) and
// kept FFN widths.
Arch spvit_deit(std::int64_t dim, std::int64_t heads, const std::vector<int>& ops,
                const std::vector<std::int64_t>& widths, Meta m) {
  Arch a = deit(dim, heads, std::move(m));
  for (std::size_t b = 0; b < 12; ++b) {
    Block& blk = a.stages[0].blocks[b];
    if (ops[b] != 0) blk.mixer = bconv(ops[b]);
    blk.ffn.hidden = widths[b];
  }
  return a;
}

// HVT (SEEDS §6): DeiT without cls token, mean head, MaxPool1d(3, 2) after block i when i % width == 0.
Arch hvt(std::int64_t dim, std::int64_t heads, int width, Meta m) {
  Arch a = deit(dim, heads, std::move(m));
  a.cls_token = false;
  a.head = Head{HeadKind::mean, true};
  if (width > 0) {
    for (int b = 0; b < 12; ++b) a.stages[0].blocks[static_cast<std::size_t>(b)].pool_after = b % width == 0;
  }
  return a;
}

// PVTv2 (whai362/PVT pvt_v2.py): overlapping patch embeds, SRA + ConvFFN, a norm after every stage.
Arch pvtv2(const std::vector<std::int64_t>& depths, const std::vector<std::int64_t>& dims, Meta m) {
  const std::vector<std::int64_t> heads = {1, 2, 5, 8}, ratios = {8, 8, 4, 4}, sr = {8, 4, 2, 1};
  Arch a;
  a.norm_eps = 1e-6;        // norm_layer: block, stage-end norms
  a.embed_norm_eps = 1e-5;  // OverlapPatchEmbed.norm and Attention.norm are plain nn.LayerNorm
  a.stem = overlap(7, 4);
  for (std::size_t i = 0; i < 4; ++i) {
    Stage s = stage(dims[i], heads[i], i == 0 ? kind(PatchKind::none) : overlap(3, 2),
                    std::vector<Block>(static_cast<std::size_t>(depths[i]),
                                       Block{sra(sr[i]), ffn(FfnKind::convffn, ratios[i] * dims[i]), false}));
    s.norm_out = true;
    a.stages.push_back(s);
  }
  a.head = Head{HeadKind::mean, false};
  a.meta = std::move(m);
  return a;
}

// Swin-T (microsoft/Swin-Transformer): patch4 + LN, window 7 shifted on odd blocks, patch merging.
Arch swin_t(Meta m) {
  const std::vector<std::int64_t> depths = {2, 2, 6, 2}, heads = {3, 6, 12, 24};
  Arch a;
  a.norm_eps = 1e-5;
  a.stem = patch(4, true);
  for (std::size_t i = 0; i < 4; ++i) {
    const std::int64_t dim = 96 << i;
    std::vector<Block> blocks;
    for (std::int64_t b = 0; b < depths[i]; ++b)
      blocks.push_back(Block{window(7, b % 2 == 1), ffn(FfnKind::mlp, 4 * dim), false});
    a.stages.push_back(stage(dim, heads[i], kind(i == 0 ? PatchKind::none : PatchKind::merge), blocks));
  }
  a.head = Head{HeadKind::mean, true};
  a.meta = std::move(m);
  return a;
}

// SPViT-searched Swin-T (SEEDS §4): stages 1–2 [1×1 conv, SPViT skip (x + LN(x))], stages 3–4 window
// MSA, kept FFN widths per block.
Arch spvit_swin_t(Meta m) {
  Arch a = swin_t(std::move(m));
  const std::vector<std::int64_t> widths = {186, 152, 646, 504, 1350, 1319, 1289, 1249, 1234, 1082, 3041, 2994};
  std::size_t k = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t b = 0; b < a.stages[i].blocks.size(); ++b, ++k) {
      Block& blk = a.stages[i].blocks[b];
      if (i < 2) blk.mixer = b == 0 ? bconv(1) : mixer(MixerKind::normskip);
      blk.ffn.hidden = widths[k];
    }
  }
  return a;
}

// LITv2 (ziplab/LITv2): attention-free ConvFFN blocks in stages 1–2, HiLo (s=2, alpha 0.9) in stage 3,
// HiLo s=1 (= MSA) in stage 4, DTM downsampling.
Arch litv2(std::int64_t c1, const std::vector<std::int64_t>& depths, const std::vector<std::int64_t>& heads, Meta m) {
  Arch a;
  a.norm_eps = 1e-5;
  a.stem = patch(4, true);
  for (std::size_t i = 0; i < 4; ++i) {
    const std::int64_t dim = c1 << i;
    const Mixer mx = i < 2 ? mixer(MixerKind::none) : hilo(0.9, i == 2 ? 2 : 1);
    a.stages.push_back(stage(
        dim, heads[i], kind(i == 0 ? PatchKind::none : PatchKind::dtm),
        std::vector<Block>(static_cast<std::size_t>(depths[i]), Block{mx, ffn(FfnKind::convffn, 4 * dim), false})));
  }
  a.head = Head{HeadKind::mean, true};
  a.meta = std::move(m);
  return a;
}

// LIT (ziplab/LIT, S/M/B): MLP-only stages 1–2, global MSA with relative position bias in 3–4, DTM.
Arch lit(std::int64_t c1, const std::vector<std::int64_t>& depths, const std::vector<std::int64_t>& heads, Meta m) {
  Arch a;
  a.norm_eps = 1e-5;
  a.stem = patch(4, true);
  for (std::size_t i = 0; i < 4; ++i) {
    const std::int64_t dim = c1 << i;
    const Mixer mx = i < 2 ? mixer(MixerKind::none) : msa(/*rel_pos=*/true);
    a.stages.push_back(
        stage(dim, heads[i], kind(i == 0 ? PatchKind::none : PatchKind::dtm),
              std::vector<Block>(static_cast<std::size_t>(depths[i]), Block{mx, ffn(FfnKind::mlp, 4 * dim), false})));
  }
  a.head = Head{HeadKind::mean, true};
  a.meta = std::move(m);
  return a;
}

struct Entry {
  PresetInfo info;
  std::function<Arch()> make;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> kEntries = [] {
    const std::vector<std::int64_t> d2262 = {2, 2, 6, 2}, d22182 = {2, 2, 18, 2};
    const std::vector<std::int64_t> h3 = {3, 6, 12, 24}, h4 = {4, 8, 16, 32};
    std::vector<Entry> e;
    auto add = [&](std::string name, std::string family, std::string desc, std::function<Arch()> make) {
      e.push_back(Entry{PresetInfo{std::move(name), std::move(family), std::move(desc)}, std::move(make)});
    };
    add("deit-tiny", "deit", "DeiT-Ti: D192, 12 blocks, 3 heads",
        [] { return deit(192, 3, meta("deit-tiny", "", 72.2, "timm vision_transformer")); });
    add("deit-small", "deit", "DeiT-S: D384, 12 blocks, 6 heads",
        [] { return deit(384, 6, meta("deit-small", "", 79.9, "timm vision_transformer")); });
    add("deit-base", "deit", "DeiT-B: D768, 12 blocks, 12 heads",
        [] { return deit(768, 12, meta("deit-base", "", 81.8, "timm vision_transformer")); });
    add("pvtv2-b0", "pvtv2", "PVTv2-B0: dims 32/64/160/256, depths 2/2/2/2", [] {
      return pvtv2({2, 2, 2, 2}, {32, 64, 160, 256}, meta("pvtv2-b0", "", 70.5, "whai362/PVT pvt_v2.py"));
    });
    add("pvtv2-b1", "pvtv2", "PVTv2-B1: dims 64/128/320/512, depths 2/2/2/2", [] {
      return pvtv2({2, 2, 2, 2}, {64, 128, 320, 512}, meta("pvtv2-b1", "", 78.7, "whai362/PVT pvt_v2.py"));
    });
    add("pvtv2-b2", "pvtv2", "PVTv2-B2: dims 64/128/320/512, depths 3/4/6/3", [] {
      return pvtv2({3, 4, 6, 3}, {64, 128, 320, 512}, meta("pvtv2-b2", "", 82.0, "whai362/PVT pvt_v2.py"));
    });
    add("swin-t", "swin", "Swin-T: C96, depths 2/2/6/2, window 7",
        [] { return swin_t(meta("swin-t", "swin", 81.2, "microsoft/Swin-Transformer")); });
    add("litv2-s", "litv2", "LITv2-S: C96, depths 2/2/6/2, HiLo alpha 0.9",
        [=] { return litv2(96, d2262, h3, meta("litv2-s", "litv2", 82.0, "ziplab/LITv2")); });
    add("litv2-m", "litv2", "LITv2-M: C96, depths 2/2/18/2, HiLo alpha 0.9",
        [=] { return litv2(96, d22182, h3, meta("litv2-m", "litv2", 83.3, "ziplab/LITv2")); });
    add("litv2-b", "litv2", "LITv2-B: C128, depths 2/2/18/2, HiLo alpha 0.9",
        [=] { return litv2(128, d22182, h4, meta("litv2-b", "litv2", 83.6, "ziplab/LITv2")); });
    add("lit-s", "lit", "LIT-S: C96, depths 2/2/6/2, MLP stages 1-2, MSA + rel-pos 3-4",
        [=] { return lit(96, d2262, h3, meta("lit-s", "lit", 81.5, "ziplab/LIT")); });
    add("lit-m", "lit", "LIT-M: C96, depths 2/2/18/2",
        [=] { return lit(96, d22182, h3, meta("lit-m", "lit", 83.0, "ziplab/LIT")); });
    add("lit-b", "lit", "LIT-B: C128, depths 2/2/18/2",
        [=] { return lit(128, d22182, h4, meta("lit-b", "lit", 83.4, "ziplab/LIT")); });
    const std::vector<std::pair<int, std::string>> hvt_widths = {{0, "none"}, {12, "12"}, {6, "6"}, {4, "4"}, {3, "3"}};
    for (const auto& [w, label] : hvt_widths) {
      const std::string name = "hvt-s-" + label;
      add(name, "hvt",
          w == 0 ? "HVT-S without pooling (DeiT-S, no cls token, mean head)"
                 : fmt::format("HVT-S, token pooling every {} blocks", w),
          [w = w, name] {
            Meta m = meta(name, "", 0, "zhuang-group/HVT");
            m.top1.reset();
            return hvt(384, 6, w, m);
          });
    }
    add("hvt-ti-1", "hvt", "HVT-Ti-1: D192, 3 heads, one pooling",
        [] { return hvt(192, 3, 12, meta("hvt-ti-1", "", 69.6, "zhuang-group/HVT")); });
    add("spvit-deit-tiny", "spvit", "SPViT-searched DeiT-Ti: blocks 0-1 1x1 conv", [] {
      return spvit_deit(192, 3, {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                        {744, 758, 764, 767, 766, 764, 756, 659, 633, 473, 179, 145},
                        meta("spvit-deit-tiny", "", 70.7, "ziplab/SPViT"));
    });
    add("spvit-deit-small", "spvit", "SPViT-searched DeiT-S: block 0 1x1 conv", [] {
      return spvit_deit(384, 6, {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                        {1304, 1399, 1344, 1214, 1251, 1183, 1140, 925, 742, 391, 104, 103},
                        meta("spvit-deit-small", "", 78.3, "ziplab/SPViT"));
    });
    add("spvit-deit-base", "spvit", "SPViT-searched DeiT-B: blocks 0-2 1x1, 3-4 3x3 conv", [] {
      return spvit_deit(768, 12, {1, 1, 1, 3, 3, 0, 0, 0, 0, 0, 0, 0},
                        {1118, 489, 1050, 1345, 1336, 1326, 1431, 1564, 1606, 1702, 1290, 190},
                        meta("spvit-deit-base", "", 81.5, "ziplab/SPViT"));
    });
    add("spvit-swin-t", "spvit", "SPViT-searched Swin-T: stages 1-2 [1x1 conv, x+LN(x)]",
        [] { return spvit_swin_t(meta("spvit-swin-t", "swin", 80.1, "ziplab/SPViT")); });
    return e;
  }();
  return kEntries;
}

}  // namespace

const std::vector<PresetInfo>& presets() {
  static const std::vector<PresetInfo> kInfos = [] {
    std::vector<PresetInfo> v;
    for (const Entry& e : entries()) v.push_back(e.info);
    return v;
  }();
  return kInfos;
}

Result<Arch> preset(std::string_view name) {
  for (const Entry& e : entries()) {
    if (e.info.name == name) {
      auto v = validate(e.make());
      if (!v) return Error{fmt::format("preset '{}': {}", name, v.error().message)};  // a bug, but say so
      return v;
    }
  }
  std::vector<std::string> names;
  for (const Entry& e : entries()) names.push_back(e.info.name);
  const std::string hint = did_you_mean(name, names);
  return Error{fmt::format("unknown preset '{}'{} (see 'hwnas presets')", name,
                           hint.empty() ? "" : fmt::format(": did you mean '{}'?", hint))};
}

Result<Arch> load_arch(const std::string& preset_or_file) {
  std::error_code ec;
  if (std::filesystem::exists(preset_or_file, ec) || preset_or_file.find('/') != std::string::npos ||
      preset_or_file.ends_with(".json"))
    return load_arch_file(preset_or_file);
  return preset(preset_or_file);
}

}  // namespace hwnas::space
