#include "space/canonical.h"

#include <fmt/format.h>

#include "space/arch_json.h"

namespace hwnas::space {

std::string canonical_text(const Arch& arch) {
  // nlohmann::json keeps object keys sorted; doubles print as their shortest round-trip form.
  return arch_to_json(arch, /*with_meta=*/false).dump();
}

// FNV-1a over the bytes, then the splitmix64 finaliser to spread the bits.
std::uint64_t hash64(const std::string& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

std::uint64_t arch_hash(const Arch& arch) {
  return hash64(canonical_text(arch));
}

std::string hash_hex(std::uint64_t hash) {
  return fmt::format("{:016x}", hash);
}

}  // namespace hwnas::space
