// "Did you mean …?" for unknown names (keys, kinds, presets, commands).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hwnas::space {

// The candidate nearest to `word` by edit distance, if within 2 edits; empty otherwise.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace hwnas::space
