// timm's default evaluation transform, reproduced exactly (timm transforms_imagenet_eval with
// torchvision on PIL images): resize the shorter side to floor(size / crop_pct) with PIL's
// antialiased bicubic (a = -0.5, 8-bit fixed point, horizontal pass then vertical), centre crop
// size × size (torchvision's rounding), scale to [0, 1], normalise with the ImageNet mean and std.
// The constants live here and nowhere else.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "weights/image_decode.h"

namespace hwnas::weights {

struct EvalTransform {
  std::int64_t size = 224;  // output side
  double crop_pct = 0.875;  // timm's default: resize to floor(224 / 0.875) = 256, crop 224
  static constexpr float kMean[3] = {0.485f, 0.456f, 0.406f};  // ImageNet (timm IMAGENET_DEFAULT_MEAN)
  static constexpr float kStd[3] = {0.229f, 0.224f, 0.225f};   // ImageNet (timm IMAGENET_DEFAULT_STD)
  std::int64_t resize_to() const;                              // the shorter side after resizing
};

// PIL's Image.resize(…, BICUBIC) of an 8-bit RGB image (bit-exact to PIL's fixed-point path).
Image resize_bicubic(const Image& in, int width, int height);
// The transform: writes 3 × size × size floats (CHW) into dst.
void apply(const EvalTransform& t, const Image& in, std::span<float> dst);

}  // namespace hwnas::weights
