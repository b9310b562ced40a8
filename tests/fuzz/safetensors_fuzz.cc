// libFuzzer target for the safetensors header parser: any bytes give a validated file or an Error,
// never a crash or an out-of-bounds read; every tensor of a valid file reads back. The seed corpus
// (corpus_safetensors/) is replayed as a regression test in every build.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "weights/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto f = hwnas::weights::SafetensorsFile::parse(bytes, "fuzz");
  if (!f) return 0;
  for (const auto& t : f->tensors()) {
    const auto raw = f->raw(t);
    if (raw.data() < bytes.data() || raw.data() + raw.size() > bytes.data() + bytes.size()) __builtin_trap();
    if (!t.dtype || t.numel() > (1 << 20)) continue;
    std::vector<float> out(static_cast<std::size_t>(t.numel()));
    if (!f->read_f32(t, out)) __builtin_trap();
  }
  return 0;
}
