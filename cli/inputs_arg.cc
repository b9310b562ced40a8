#include "cli/inputs_arg.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <fmt/format.h>

#include "cli/command.h"
#include "weights/image_decode.h"
#include "weights/safetensors.h"

namespace hwnas::cli {

namespace {

bool is_image_name(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

}  // namespace

Inputs inputs_from_options(const po::variables_map& vm, const space::Arch& arch) {
  const int given = static_cast<int>(vm.count("input") + vm.count("image") + vm.count("images"));
  if (given != 1) throw UsageError("give exactly one of --input T.npy, --image FILE..., --images DIR");
  Inputs in;
  const std::vector<std::int64_t> chw = {arch.input.channels, arch.input.height, arch.input.width};
  if (vm.count("input") != 0) {
    const std::string path = vm["input"].as<std::string>();
    auto a = weights::read_npy(path);
    if (!a) throw UsageError(a.error().message);
    std::vector<std::int64_t> shape = a->shape;
    if (shape.size() == 3) shape.insert(shape.begin(), 1);
    if (shape.size() != 4 || !std::equal(chw.begin(), chw.end(), shape.begin() + 1) || shape[0] < 1)
      throw UsageError(fmt::format("{}: shape {} does not fit the architecture's input [N, {}, {}, {}]", path,
                                   weights::shape_text(a->shape), chw[0], chw[1], chw[2]));
    a->shape = shape;
    for (std::int64_t i = 0; i < shape[0]; ++i) in.sources.push_back(fmt::format("{}[{}]", path, i));
    in.array = std::move(*a);
    return in;
  }
  if (arch.input.channels != 3)
    throw UsageError(
        fmt::format("images give 3 channels; the architecture takes {} (use --input T.npy)", arch.input.channels));
  if (arch.input.height != arch.input.width)
    throw UsageError(
        fmt::format("timm's evaluation transform makes square inputs; the architecture takes {}x{} "
                    "(use --input T.npy)",
                    arch.input.height, arch.input.width));
  if (vm.count("image") != 0) {
    in.images = vm["image"].as<std::vector<std::string>>();
  } else {
    const std::string dir = vm["images"].as<std::string>();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) throw UsageError(fmt::format("--images {}: not a directory", dir));
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
      if (e.is_regular_file() && is_image_name(e.path())) in.images.push_back(e.path().string());
    if (ec) throw UsageError(fmt::format("--images {}: {}", dir, ec.message()));
    std::sort(in.images.begin(), in.images.end());
    if (in.images.empty()) throw UsageError(fmt::format("--images {}: no .jpg, .jpeg or .png files", dir));
  }
  in.sources = in.images;
  return in;
}

void load_input(const Inputs& in, std::int64_t i, const weights::EvalTransform& transform, std::span<float> dst) {
  if (in.array) {
    const auto* src = in.array->values.data() + i * static_cast<std::int64_t>(dst.size());
    std::copy(src, src + dst.size(), dst.begin());
    return;
  }
  auto img = weights::read_image(in.images[static_cast<std::size_t>(i)]);
  if (!img) throw UsageError(img.error().message);
  weights::apply(transform, *img, dst);
}

}  // namespace hwnas::cli
