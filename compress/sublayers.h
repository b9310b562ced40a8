// FinerCut's candidates (SEEDS.md §5): every attention sublayer (token mixer) and every FFN sublayer
// of every block, separately. Removing one makes its residual branch add nothing: in the IR the
// mixer becomes `skip` and the FFN `none`, and the network keeps every other parameter.
#pragma once

#include <string>
#include <vector>

#include "space/arch.h"

namespace hwnas::compress {

struct Sublayer {
  int stage = 0, block = 0;
  bool ffn = false;  // false: the token mixer
  bool operator==(const Sublayer&) const = default;
};

// "stages.0.blocks.3.attn" / "stages.0.blocks.3.mlp" (the parameter prefix of the sublayer).
std::string label(const Sublayer& s);
// Every sublayer of `arch` that computes something (mixers other than none/skip, FFNs other than
// none), in network order (attn before mlp within a block).
std::vector<Sublayer> removable_sublayers(const space::Arch& arch);
// `arch` with the given sublayers removed (validated by the caller).
space::Arch without(const space::Arch& arch, const std::vector<Sublayer>& removed);

}  // namespace hwnas::compress
