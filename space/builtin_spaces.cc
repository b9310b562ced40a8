// The built-in search spaces, as the same JSON a user would write (format: space/FORMAT.md).
#include <fmt/format.h>

#include "space/search_space.h"

namespace hwnas::space {
namespace {

// Around LITv2-S (3.7 GMACs): attention-free early stages, a choice of every mixer kind in stage 3,
// FinerCut removal in the last two stages. Spans roughly 1-8 GMACs at 224 (median ~3).
constexpr const char* kHybridVit = R"json({
  "name": "hybrid-vit",
  "description": "Hybrid ViT around LITv2-S: MLP/ConvFFN early stages, HiLo/MSA/window/SRA/conv mixers later, sublayer removal",
  "base": {
    "input": {"resolution": 224, "channels": 3, "classes": 1000},
    "norm_eps": 1e-5,
    "stem": {"kind": "patch", "kernel": 4, "norm": true},
    "head": {"kind": "mean", "norm": true}
  },
  "stages": [
    {"depth": [1, 2, 3], "dim": [64, 96, 128], "head_dim": [32],
     "mixer": ["none"],
     "ffn": {"kind": "convffn", "ratio": [3, 4]}},
    {"depth": [1, 2, 3], "dim": [128, 192, 256], "head_dim": [32],
     "downsample": ["dtm", {"kind": "patch", "kernel": 2, "norm": true}],
     "mixer": ["none", {"kind": "hilo", "alpha": 0.9, "window": 4}],
     "ffn": {"kind": "convffn", "ratio": [3, 4]}},
    {"depth": [6, 8, 10, 12, 14], "dim": [256, 320, 384, 448, 512, 576], "head_dim": [32, 64],
     "downsample": ["dtm", {"kind": "patch", "kernel": 2, "norm": true}],
     "mixer": ["msa", {"kind": "hilo", "alpha": [0.5, 0.7, 0.9], "window": 2},
               {"kind": "window", "size": 7}, {"kind": "sra", "ratio": 2}, {"kind": "bconv", "kernel": [1, 3]}],
     "ffn": {"kind": ["convffn", "mlp"], "ratio": [2, 3, 4]},
     "removable": true},
    {"depth": [1, 2, 3], "dim": [512, 640, 768, 1024], "head_dim": [32, 64],
     "downsample": ["dtm", {"kind": "patch", "kernel": 2, "norm": true}],
     "mixer": ["msa", {"kind": "hilo", "alpha": 0.9, "window": 1}],
     "ffn": {"kind": ["convffn", "mlp"], "ratio": [2, 3, 4]},
     "removable": true}
  ]
})json";

// A small space for tests: 64×64 inputs, two stages, every mixer kind that fits.
constexpr const char* kTiny = R"json({
  "name": "tiny",
  "description": "Small two-stage space on 64x64 inputs, for tests",
  "base": {
    "input": {"resolution": 64, "channels": 3, "classes": 10},
    "norm_eps": 1e-6,
    "stem": {"kind": "patch", "kernel": 4, "norm": true},
    "head": {"kind": "mean", "norm": true}
  },
  "stages": [
    {"depth": [1, 2], "dim": [16, 32], "head_dim": [8, 16],
     "mixer": ["none", "msa", {"kind": "hilo", "alpha": 0.5, "window": 2}, {"kind": "window", "size": 4, "shift": [false, true]}],
     "ffn": {"kind": "mlp", "ratio": [2, 4]}},
    {"depth": [1, 2], "dim": [32, 64], "head_dim": [16],
     "downsample": ["dtm", "merge", {"kind": "patch", "kernel": 2}],
     "mixer": ["msa", {"kind": "sra", "ratio": 2}, {"kind": "bconv", "kernel": [1, 3]}],
     "ffn": {"kind": "convffn", "ratio": [2, 4]},
     "removable": true}
  ]
})json";

}  // namespace

std::vector<std::string> builtin_space_names() {
  return {"hybrid-vit", "tiny"};
}

Result<SearchSpace> builtin_space(const std::string& name) {
  if (name == "hybrid-vit") return parse_search_space(kHybridVit, "hybrid-vit");
  if (name == "tiny") return parse_search_space(kTiny, "tiny");
  return Error{fmt::format("unknown built-in search space '{}'", name)};
}

}  // namespace hwnas::space
