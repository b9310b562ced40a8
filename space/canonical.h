// Canonical form and hash: the cache key of an architecture. Two descriptions of the same network
// (key order, defaults written or omitted, whitespace, depth shorthand, meta) give the same text and
// hash; any change to what is computed changes both.
#pragma once

#include <cstdint>
#include <string>

#include "space/arch.h"

namespace hwnas::space {

// Compact JSON with sorted keys, every field explicit, no meta. `arch` must be validated.
std::string canonical_text(const Arch& arch);
std::uint64_t arch_hash(const Arch& arch);
std::uint64_t hash64(const std::string& bytes);
std::string hash_hex(std::uint64_t hash);  // 16 lowercase hex digits

}  // namespace hwnas::space
