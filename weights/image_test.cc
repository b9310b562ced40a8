// Images in: JPEG and PNG decoding (gray expands, alpha dropped, CMYK and 16-bit refused), PIL's
// bicubic resize against values PIL 9.4 printed, and timm's evaluation transform's invariants.
#include <cstdio>
#include <string>

#include <gtest/gtest.h>
// clang-format off
#include <jpeglib.h>  // needs <cstdio> first
// clang-format on
#include <png.h>

#include "weights/eval_transform.h"
#include "weights/image_decode.h"

namespace hwnas::weights {
namespace {

std::vector<std::uint8_t> jpeg_of(int w, int h, int components, J_COLOR_SPACE space, std::uint8_t value) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = static_cast<JDIMENSION>(w);
  c.image_height = static_cast<JDIMENSION>(h);
  c.input_components = components;
  c.in_color_space = space;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 100, TRUE);
  jpeg_start_compress(&c, TRUE);
  std::vector<std::uint8_t> row(static_cast<std::size_t>(w * components), value);
  while (c.next_scanline < c.image_height) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  std::vector<std::uint8_t> out(buf, buf + size);
  jpeg_destroy_compress(&c);
  std::free(buf);
  return out;
}

std::vector<std::uint8_t> png_of(int w, int h, png_uint_32 format, const void* pixels) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  img.width = static_cast<png_uint_32>(w);
  img.height = static_cast<png_uint_32>(h);
  img.format = format;
  png_alloc_size_t size = 0;
  EXPECT_NE(png_image_write_to_memory(&img, nullptr, &size, 0, pixels, 0, nullptr), 0);
  std::vector<std::uint8_t> out(size);
  EXPECT_NE(png_image_write_to_memory(&img, out.data(), &size, 0, pixels, 0, nullptr), 0);
  out.resize(size);
  return out;
}

TEST(ImageDecode, PngRgbaDropsAlphaAndGrayJpegExpands) {
  const std::uint8_t rgba[2 * 4] = {10, 20, 30, 0, 200, 100, 50, 255};  // alpha 0 must not black out the pixel
  auto png = decode_image(png_of(2, 1, PNG_FORMAT_RGBA, rgba), "a.png");
  ASSERT_TRUE(png) << png.error().message;
  EXPECT_EQ(png->rgb, (std::vector<std::uint8_t>{10, 20, 30, 200, 100, 50}));

  auto gray = decode_image(jpeg_of(16, 8, 1, JCS_GRAYSCALE, 77), "g.jpg");
  ASSERT_TRUE(gray) << gray.error().message;
  EXPECT_EQ(gray->width, 16);
  EXPECT_EQ(gray->height, 8);
  for (std::uint8_t v : gray->rgb) EXPECT_NEAR(v, 77, 1);
}

TEST(ImageDecode, RefusesCmykSixteenBitCorruptAndNonImages) {
  struct Bad {
    std::vector<std::uint8_t> bytes;
    std::string says;
  };
  const std::uint16_t rgb16[3] = {1000, 2000, 60000};
  auto truncated = jpeg_of(32, 32, 3, JCS_RGB, 128);
  truncated.resize(truncated.size() / 3);
  auto bad_png = png_of(2, 1, PNG_FORMAT_RGB, rgb16);
  bad_png[20] ^= 0xff;  // inside IHDR: the CRC no longer matches
  const Bad bad[] = {
      {jpeg_of(8, 8, 4, JCS_CMYK, 40), "CMYK JPEG refused"},
      {png_of(1, 1, PNG_FORMAT_LINEAR_RGB, rgb16), "16-bit PNG refused"},
      {bad_png, "corrupt PNG"},
      {{'G', 'I', 'F', '8', '9', 'a', 0, 0, 0}, "not an image hwnas reads"},
      {{}, "not an image hwnas reads"},
  };
  for (const Bad& b : bad) {
    auto r = decode_image(b.bytes, "x.img");
    ASSERT_FALSE(r) << b.says;
    EXPECT_EQ(r.error().message.rfind("x.img: ", 0), 0u) << r.error().message;
    EXPECT_NE(r.error().message.find(b.says), std::string::npos) << r.error().message;
  }
  // A truncated JPEG: libjpeg pads the missing scanlines with a warning (as PIL does with
  // LOAD_TRUNCATED_IMAGES); either way it must neither crash nor read out of bounds.
  auto t = decode_image(truncated, "t.jpg");
  if (t) {
    EXPECT_EQ(t->rgb.size(), 32u * 32u * 3u);
  }
}

// An 8×6 pattern and PIL 9.4's Image.resize(size, Image.BICUBIC) of it (printed by PIL itself).
Image pattern() {
  Image im{8, 6, std::vector<std::uint8_t>(8 * 6 * 3)};
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 8; ++x)
      for (int c = 0; c < 3; ++c)
        im.rgb[(y * 8 + x) * 3 + c] = static_cast<std::uint8_t>((x * 37 + y * 91 + c * 53 + (x * y * 13) % 41) % 256);
  return im;
}

TEST(EvalTransform, BicubicResizeIsBitExactToPil) {
  const std::vector<std::uint8_t> pil_5x3 = {78,  120, 158, 121, 151, 136, 176, 114, 173, 141, 150, 123, 108, 94,  135,
                                             131, 139, 122, 128, 124, 139, 146, 156, 102, 130, 121, 141, 109, 108, 121,
                                             110, 171, 107, 117, 79,  99,  121, 112, 138, 111, 155, 100, 148, 135, 144};
  const std::vector<std::uint8_t> pil_3x7 = {
      29,  83,  144, 134, 189, 197, 145, 93,  76,  123, 174, 174, 201, 100, 105, 92,  124, 176, 165, 137, 104,
      113, 108, 162, 150, 146, 128, 113, 118, 129, 126, 174, 135, 135, 103, 93,  103, 137, 155, 176, 147, 70,
      77,  94,  154, 154, 133, 83,  116, 58,  112, 108, 161, 184, 68,  124, 100, 88,  152, 163, 191, 159, 37};
  EXPECT_EQ(resize_bicubic(pattern(), 5, 3).rgb, pil_5x3);  // downscale both ways (antialiased)
  EXPECT_EQ(resize_bicubic(pattern(), 3, 7).rgb, pil_3x7);  // down in x, up in y
  const Image up = resize_bicubic(pattern(), 11, 9);        // upscale: overshoot clipped to [0, 255]
  const std::vector<std::uint8_t> pil_11x9_first = {0, 45, 98, 13, 66, 117, 42, 94, 153, 68, 122, 191};
  EXPECT_EQ(std::vector<std::uint8_t>(up.rgb.begin(), up.rgb.begin() + 12), pil_11x9_first);
  EXPECT_EQ(up.rgb[up.rgb.size() - 1], 44);
}

TEST(EvalTransform, ConstantImageGivesTheNormalisedConstantAtTheCropSize) {
  Image im{300, 200, std::vector<std::uint8_t>(300 * 200 * 3)};
  for (std::size_t i = 0; i < im.rgb.size(); ++i) im.rgb[i] = i % 3 == 0 ? 255 : i % 3 == 1 ? 128 : 0;
  EvalTransform t;
  EXPECT_EQ(t.resize_to(), 256);  // floor(224 / 0.875)
  std::vector<float> x(3 * 224 * 224);
  apply(t, im, x);
  const float expect[3] = {(1.0f - 0.485f) / 0.229f, (128 / 255.0f - 0.456f) / 0.224f, (0.0f - 0.406f) / 0.225f};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 224 * 224; ++i) ASSERT_FLOAT_EQ(x[static_cast<std::size_t>(c * 224 * 224 + i)], expect[c]);
}

TEST(EvalTransform, CentreCropTakesTheMiddle) {
  // 256×256 already at the resize size (no resampling): a marker at (16, 16) is the crop's (0, 0).
  Image im{256, 256, std::vector<std::uint8_t>(256 * 256 * 3, 0)};
  for (int c = 0; c < 3; ++c) im.rgb[(16 * 256 + 16) * 3 + c] = 255;
  std::vector<float> x(3 * 224 * 224);
  apply(EvalTransform{}, im, x);
  EXPECT_FLOAT_EQ(x[0], (1.0f - 0.485f) / 0.229f);
  EXPECT_FLOAT_EQ(x[1], -0.485f / 0.229f);
  EXPECT_FLOAT_EQ(x[224], -0.485f / 0.229f);
}

}  // namespace
}  // namespace hwnas::weights
