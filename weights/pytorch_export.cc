#include "weights/pytorch_export.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "space/canonical.h"
#include "space/ops.h"
#include "space/params.h"
#include "weights/atomic_file.h"
#include "weights/checkpoint.h"
#include "weights/pytorch_modules.h"
#include "weights/safetensors.h"

namespace hwnas::weights {
namespace {

using i64 = std::int64_t;

std::string join(const std::vector<std::string>& parts) {
  return fmt::format("{}", fmt::join(parts, ", "));
}

// Net.__init__ from the lowered units, and the set of snippets its constructors need.
class NetWriter {
 public:
  NetWriter(const space::Arch& arch, const space::Lowered& net) : arch_(arch), net_(net) {}

  std::string init() {
    std::string out;
    int open_stage = -1;
    auto close_stage = [&] {
      if (open_stage >= 0) out += "            ]),\n";
      open_stage = -1;
    };
    for (const space::Unit& u : net_.units) {
      switch (u.kind) {
        case space::UnitKind::stem: out += fmt::format("        self.stem = {}\n", stem(u)); break;
        case space::UnitKind::downsample:
        case space::UnitKind::block:
          if (u.stage != open_stage) {
            close_stage();
            if (u.stage == 0) out += "        self.stages = nn.ModuleList([\n";
            out += stage_open(u);
            open_stage = u.stage;
          }
          if (u.kind == space::UnitKind::block) out += fmt::format("                {},\n", block(u));
          break;
        case space::UnitKind::head:
          close_stage();
          out += "        ])\n";
          out += fmt::format("        self.head = {}\n", head(u));
          break;
        case space::UnitKind::kCount: throw std::logic_error("pytorch export: bad unit kind");
      }
    }
    return out;
  }

  const std::set<std::string, std::less<>>& used() const { return used_; }

 private:
  const space::Stage& stage(int s) const { return arch_.stages.at(static_cast<std::size_t>(s)); }
  std::string use(std::string_view cls, const std::vector<std::string>& args) {
    used_.emplace(cls);
    return fmt::format("{}({})", cls, join(args));
  }

  // Constructor arguments of a stem or downsample's conv / merge / DTM, then its embeddings.
  std::string patch(const space::Patch& p, i64 in_dim, i64 dim, std::vector<std::string> embed) {
    std::vector<std::string> a = {std::to_string(in_dim), std::to_string(dim)};
    std::string cls;
    switch (p.kind) {
      case space::PatchKind::patch:
      case space::PatchKind::overlap:
        cls = "PatchEmbed";
        a.push_back(fmt::format("kernel={}", p.kernel));
        a.push_back(fmt::format("stride={}", p.stride));
        if (p.padding != 0) a.push_back(fmt::format("padding={}", p.padding));
        if (p.norm) a.push_back("norm=True");
        break;
      case space::PatchKind::merge: cls = "PatchMerging"; break;
      case space::PatchKind::dtm: cls = "DeformTokenMerge"; break;
      case space::PatchKind::none:
      case space::PatchKind::kCount: throw std::logic_error("pytorch export: bad patch kind");
    }
    a.insert(a.end(), embed.begin(), embed.end());
    return use(cls, a);
  }

  std::string stem(const space::Unit& u) {
    std::vector<std::string> embed;
    if (arch_.cls_token) embed.push_back("cls_token=True");
    if (stage(0).pos_embed) embed.push_back(fmt::format("pos_tokens={}", u.out.total()));
    return patch(arch_.stem, arch_.input.channels, u.out_dim, embed);
  }

  // "Stage(downsample=..., norm=..., blocks=[" for the stage unit `u` starts (its downsample unit, or
  // stage 0's first block).
  std::string stage_open(const space::Unit& u) {
    const space::Stage& st = stage(u.stage);
    std::vector<std::string> a;
    if (u.kind == space::UnitKind::downsample) {
      const std::vector<std::string> embed = st.pos_embed
                                                 ? std::vector<std::string>{fmt::format("pos_tokens={}", u.out.total())}
                                                 : std::vector<std::string>{};
      if (st.downsample.kind != space::PatchKind::none)
        a.push_back("downsample=" + patch(st.downsample, u.in_dim, u.out_dim, embed));
      else if (st.pos_embed)
        a.push_back("downsample=" + use("SameTokens", {std::to_string(u.out_dim), embed[0]}));
    }
    if (st.norm_out) a.push_back(fmt::format("norm=nn.LayerNorm({}, eps=NORM_EPS)", st.dim));
    a.push_back("blocks=[");
    used_.insert("Stage");
    return fmt::format("            Stage({}\n", join(a));
  }

  std::string mixer(const space::Unit& u, i64 heads, const space::Mixer& m) {
    const std::string D = std::to_string(u.in_dim), H = std::to_string(heads);
    switch (m.kind) {
      case space::MixerKind::msa:
        if (m.msa_rel_pos) {
          used_.insert("RelativePositionBias");
          return use("Attention", {D, H, fmt::format("rel_pos_grid=({}, {})", u.in.h, u.in.w)});
        }
        return use("Attention", {D, H});
      case space::MixerKind::hilo:
        return use("HiLo",
                   {D, H, fmt::format("lofi_heads={}", space::hilo_lofi_heads(heads, m.hilo_alpha, m.hilo_window)),
                    fmt::format("window={}", m.hilo_window)});
      case space::MixerKind::window:
        return use("WindowAttention", {D, H, fmt::format("window={}", m.window_size),
                                       fmt::format("shift={}", m.window_shift ? m.window_size / 2 : 0),
                                       fmt::format("grid=({}, {})", u.in.h, u.in.w)});
      case space::MixerKind::sra: return use("SRAttention", {D, H, fmt::format("ratio={}", m.sra_ratio)});
      case space::MixerKind::bconv: {
        std::vector<std::string> a = {D, H, fmt::format("kernel={}", m.bconv_kernel)};
        if (u.in.extra > 0) a.push_back(fmt::format("cls_tokens={}", u.in.extra));
        return use("BConv", a);
      }
      case space::MixerKind::none:
      case space::MixerKind::skip:
      case space::MixerKind::normskip: return "";
      case space::MixerKind::kCount: break;
    }
    throw std::logic_error("pytorch export: bad mixer kind");
  }

  std::string block(const space::Unit& u) {
    const space::Stage& st = stage(u.stage);
    const space::Block& b = st.blocks.at(static_cast<std::size_t>(u.block));
    std::vector<std::string> a = {std::to_string(u.in_dim)};
    if (const std::string m = mixer(u, st.heads, b.mixer); !m.empty()) a.push_back("attn=" + m);
    if (b.ffn.kind == space::FfnKind::mlp)
      a.push_back("mlp=" + use("Mlp", {std::to_string(u.in_dim), std::to_string(b.ffn.hidden)}));
    if (b.ffn.kind == space::FfnKind::convffn)
      a.push_back("mlp=" + use("ConvFfn", {std::to_string(u.in_dim), std::to_string(b.ffn.hidden)}));
    if (b.mixer.kind == space::MixerKind::normskip) a.push_back("normskip=True");
    if (b.pool_after) a.push_back(fmt::format("pooled_tokens={}", u.out.total()));
    return use("Block", a);
  }

  std::string head(const space::Unit& u) {
    std::vector<std::string> a = {std::to_string(u.in_dim), std::to_string(arch_.input.classes),
                                  arch_.head.kind == space::HeadKind::cls ? "pool=\"cls\"" : "pool=\"mean\""};
    if (!arch_.head.norm) a.push_back("norm=False");
    return use("Head", a);
  }

  const space::Arch& arch_;
  const space::Lowered& net_;
  std::set<std::string, std::less<>> used_;
};

// The snippets `wanted` and everything they use, in the table's order.
std::string library(std::set<std::string, std::less<>> wanted) {
  const auto& all = pytorch::snippets();
  for (bool grew = true; grew;) {
    grew = false;
    for (const pytorch::Snippet& s : all)
      if (wanted.contains(s.key))
        for (std::string_view dep : s.uses) grew |= wanted.emplace(dep).second;
  }
  std::string out;
  for (const pytorch::Snippet& s : all)
    if (wanted.contains(s.key)) out += fmt::format("\n{}", s.text);
  return out;
}

}  // namespace

Result<std::string> pytorch_source(const space::Arch& arch, const PytorchExport& opts) {
  auto net = space::lower(arch);
  if (!net) return net.error();
  NetWriter writer(arch, *net);
  std::string init;
  try {
    init = writer.init();
  } catch (const std::logic_error& e) {
    return Error{e.what()};
  }
  std::set<std::string, std::less<>> wanted = writer.used();
  wanted.insert("load");
  const std::string name = arch.meta.name.empty() ? "architecture" : arch.meta.name;
  const space::Input& in = arch.input;
  std::string py = fmt::format(
      R"py("""{name}: the network as a PyTorch module, written by hwnas {version}.

Architecture {hash} (`hwnas space show --canonical`): input images [batch, {c}, {h}, {w}]
(float32, normalised as in training), output logits [batch, {classes}]. The weights, {weights},
are in the .safetensors file beside this one, named as this module's state_dict keys (those of
`hwnas weights list --names hwnas`):

    model = load()    # Net() with those weights, in eval mode (BatchNorms use running statistics)
    logits = model(images)

Needs torch only (safetensors' own loader is used where installed). Run it to check the weights load.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

NORM_EPS = {eps}  # LayerNorms of the blocks, patch merging, stage ends and head
EMBED_NORM_EPS = {embed_eps}  # LayerNorms after a patch/overlap conv and of spatial reduction
)py",
      fmt::arg("name", name), fmt::arg("version", opts.producer_version),
      fmt::arg("hash", space::hash_hex(space::arch_hash(arch))), fmt::arg("c", in.channels), fmt::arg("h", in.height),
      fmt::arg("w", in.width), fmt::arg("classes", in.classes), fmt::arg("weights", opts.weights_from),
      fmt::arg("eps", arch.norm_eps), fmt::arg("embed_eps", arch.embed_eps()));
  wanted.erase("load");
  py += library(wanted);
  py += fmt::format(
      R"py(

class Net(nn.Module):
    """{name}: stem, {stages} stages of {blocks} blocks in all, head."""

    def __init__(self):
        super().__init__()
{init}
    def forward(self, images):
        x, h, w = self.stem(images)
        for stage in self.stages:
            x, h, w = stage(x, h, w)
        return self.head(x)
)py",
      fmt::arg("name", name), fmt::arg("stages", arch.stages.size()),
      fmt::arg("blocks", std::count_if(net->units.begin(), net->units.end(),
                                       [](const space::Unit& u) { return u.kind == space::UnitKind::block; })),
      fmt::arg("init", init));
  py += library({std::string("load")});
  py += fmt::format(R"py(

if __name__ == "__main__":
    model = load(sys.argv[1] if len(sys.argv) > 1 else None)
    with torch.no_grad():
        logits = model(torch.randn(2, {c}, {h}, {w}))
    print(f"{{sum(p.numel() for p in model.parameters())}} parameters loaded; logits {{tuple(logits.shape)}}")
)py",
                    fmt::arg("c", in.channels), fmt::arg("h", in.height), fmt::arg("w", in.width));
  return py;
}

std::string pytorch_weights_path(const std::string& py_path) {
  const std::string stem = py_path.ends_with(".py") ? py_path.substr(0, py_path.size() - 3) : py_path;
  return stem + ".safetensors";
}

Result<bool> write_pytorch(const std::string& py_path, const space::Arch& arch, const space::WeightSource& weights,
                           const PytorchExport& opts) {
  if (!py_path.ends_with(".py")) return Error{fmt::format("{}: a PyTorch export is a .py file", py_path)};
  auto source = pytorch_source(arch, opts);
  if (!source) return source.error();
  auto net = space::lower(arch);
  if (!net) return net.error();
  auto st = write_checkpoint(pytorch_weights_path(py_path), *net, space::Convention::hwnas, weights, DType::f32,
                             {{"format", "pt"},
                              {"producer", "hwnas " + opts.producer_version},
                              {"architecture", space::hash_hex(space::arch_hash(arch))}});
  if (!st) return st.error();
  return write_atomically(py_path, [&](std::ostream& out) { out << *source; });
}

}  // namespace hwnas::weights
