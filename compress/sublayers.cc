#include "compress/sublayers.h"

#include <fmt/format.h>

namespace hwnas::compress {

std::string label(const Sublayer& s) {
  return fmt::format("stages.{}.blocks.{}.{}", s.stage, s.block, s.ffn ? "mlp" : "attn");
}

std::vector<Sublayer> removable_sublayers(const space::Arch& arch) {
  std::vector<Sublayer> out;
  for (std::size_t s = 0; s < arch.stages.size(); ++s)
    for (std::size_t b = 0; b < arch.stages[s].blocks.size(); ++b) {
      const space::Block& blk = arch.stages[s].blocks[b];
      if (blk.mixer.kind != space::MixerKind::none && blk.mixer.kind != space::MixerKind::skip)
        out.push_back({static_cast<int>(s), static_cast<int>(b), false});
      if (blk.ffn.kind != space::FfnKind::none) out.push_back({static_cast<int>(s), static_cast<int>(b), true});
    }
  return out;
}

space::Arch without(const space::Arch& arch, const std::vector<Sublayer>& removed) {
  space::Arch a = arch;
  for (const Sublayer& s : removed) {
    space::Block& blk = a.stages.at(static_cast<std::size_t>(s.stage)).blocks.at(static_cast<std::size_t>(s.block));
    if (s.ffn) {
      blk.ffn = space::Ffn{space::FfnKind::none, 0};
    } else {
      blk.mixer = space::Mixer{};
      blk.mixer.kind = space::MixerKind::skip;
    }
  }
  return a;
}

}  // namespace hwnas::compress
