#include "weights/image_decode.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
// clang-format off
#include <jpeglib.h>  // needs <cstdio> first
// clang-format on
#include <png.h>

namespace hwnas::weights {
namespace {

constexpr std::int64_t kMaxPixels = std::int64_t{1} << 28;  // 268 Mpixel: refuse decompression bombs

Error fail(const std::string& source, const std::string& what) {
  return Error{source + ": " + what};
}

// libjpeg reports fatal errors through error_exit, which must not return: jump back out.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}
void jpeg_quiet(j_common_ptr /*cinfo*/, int /*level*/) {}

// Plain C data only between setjmp and longjmp: the caller owns `out` and frees nothing here.
// Returns "" on success, else the reason.
std::string decode_jpeg(std::span<const std::uint8_t> bytes, Image& out) {
  jpeg_decompress_struct cinfo{};
  JpegError err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_error_exit;
  err.mgr.emit_message = jpeg_quiet;
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return fmt::format("corrupt JPEG: {}", err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    return "CMYK JPEG refused: hwnas reads RGB and grayscale JPEGs only (convert it to RGB first)";
  }
  if (static_cast<std::int64_t>(cinfo.image_width) * cinfo.image_height > kMaxPixels) {
    jpeg_destroy_decompress(&cinfo);
    return fmt::format("image of {}x{} pixels is too large", cinfo.image_width, cinfo.image_height);
  }
  cinfo.out_color_space = JCS_RGB;  // grayscale expands; PIL's defaults otherwise (islow DCT, fancy upsampling)
  jpeg_start_decompress(&cinfo);
  out.width = static_cast<int>(cinfo.output_width);
  out.height = static_cast<int>(cinfo.output_height);
  out.rgb.resize(static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.height) * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.rgb.data() + static_cast<std::size_t>(cinfo.output_scanline) * out.width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return "";
}

// libpng's simplified API: no longjmp reaches this code.
std::string decode_png(std::span<const std::uint8_t> bytes, Image& out) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&img, bytes.data(), bytes.size()) == 0)
    return fmt::format("corrupt PNG: {}", img.message);
  if ((img.format & PNG_FORMAT_FLAG_LINEAR) != 0) {
    png_image_free(&img);
    return "16-bit PNG refused: hwnas reads 8-bit PNGs only (convert it to 8 bits per channel first)";
  }
  if (static_cast<std::int64_t>(img.width) * img.height > kMaxPixels) {
    png_image_free(&img);
    return fmt::format("image of {}x{} pixels is too large", img.width, img.height);
  }
  img.format = PNG_FORMAT_RGBA;  // alpha kept here and dropped below, as PIL's convert("RGB") does
  std::vector<std::uint8_t> rgba(PNG_IMAGE_SIZE(img));
  if (png_image_finish_read(&img, nullptr, rgba.data(), 0, nullptr) == 0) {
    std::string why = img.message;
    png_image_free(&img);
    return fmt::format("corrupt PNG: {}", why);
  }
  out.width = static_cast<int>(img.width);
  out.height = static_cast<int>(img.height);
  out.rgb.resize(static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.height) * 3);
  for (std::size_t p = 0, n = rgba.size() / 4; p < n; ++p)
    for (int c = 0; c < 3; ++c) out.rgb[3 * p + c] = rgba[4 * p + c];
  return "";
}

}  // namespace

Result<Image> decode_image(std::span<const std::uint8_t> bytes, const std::string& source) {
  static constexpr std::uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Image out;
  std::string why;
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) {
    why = decode_jpeg(bytes, out);
  } else if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPng, 8) == 0) {
    why = decode_png(bytes, out);
  } else {
    why = "not an image hwnas reads (JPEG or PNG, by their first bytes)";
  }
  if (!why.empty()) return fail(source, why);
  if (out.width < 1 || out.height < 1) return fail(source, "image has no pixels");
  return out;
}

Result<Image> read_image(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  std::vector<std::uint8_t> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_image(buf, path);
}

}  // namespace hwnas::weights
