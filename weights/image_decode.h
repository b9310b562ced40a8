// Image files in: JPEG (Debian's libjpeg-turbo) and PNG (libpng), decoded to 8-bit RGB as PIL's
// Image.open(f).convert("RGB") does: grayscale and palette images expand to RGB, alpha is dropped
// (not composited). Refused with one line naming the file: anything that is not a JPEG or PNG, a
// corrupt or truncated file, CMYK/YCCK JPEGs and 16-bit PNGs (convert those to 8-bit RGB first:
// hwnas does not guess a colour conversion).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "space/result.h"

namespace hwnas::weights {

struct Image {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  // height × width × 3, row-major
};

Result<Image> read_image(const std::string& path);
// Decodes an in-memory file; `source` names it in errors.
Result<Image> decode_image(std::span<const std::uint8_t> bytes, const std::string& source);

}  // namespace hwnas::weights
