// libFuzzer target for the architecture and search-space JSON parsers: any input must give an Arch
// or an Error, never a crash, hang or sanitizer report. Built with -DHWNAS_FUZZ=ON under clang; the
// seed corpus is replayed as a regression test in every build (fuzz_replay_main.cc).
#include <cstddef>
#include <cstdint>
#include <string>

#include "space/arch_json.h"
#include "space/canonical.h"
#include "space/count.h"
#include "space/search_space.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto arch = hwnas::space::parse_arch(text, "fuzz");
  if (arch) {
    // A valid arch must lower, count, and survive its own canonical round trip.
    auto net = hwnas::space::lower(*arch);
    if (!net) __builtin_trap();
    (void)hwnas::space::count(*net);
    auto again = hwnas::space::parse_arch(hwnas::space::canonical_text(*arch), "canonical");
    if (!again || hwnas::space::arch_hash(*again) != hwnas::space::arch_hash(*arch)) __builtin_trap();
  }
  auto space = hwnas::space::parse_search_space(text, "fuzz");
  if (space) {
    hwnas::space::Sampler sampler(*space);
    hwnas::space::Rng rng(size);
    (void)sampler.sample(rng);
  }
  return 0;
}
