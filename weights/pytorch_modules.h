// The Python source of the PyTorch export's building blocks: one nn.Module class per kind of stem,
// downsample, token mixer and FFN of the IR (SEEDS.md), plus the few functions they share. Each
// snippet names the snippets it uses, so an export carries exactly what its architecture needs.
#pragma once

#include <string_view>
#include <vector>

namespace hwnas::weights::pytorch {

struct Snippet {
  std::string_view key;                // "HiLo", "attention", ...
  std::vector<std::string_view> uses;  // snippets this one calls (emitted before it)
  std::string_view text;               // Python source, ending in a newline
};

// Every snippet, in the order they appear in an export (helpers first, Net's parts last).
const std::vector<Snippet>& snippets();

}  // namespace hwnas::weights::pytorch
