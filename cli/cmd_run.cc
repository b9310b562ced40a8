// hwnas run: a trained network on real inputs. Loads safetensors weights (names in the checkpoint's
// convention), feeds a .npy tensor or JPEG/PNG images (timm's evaluation transform), prints the
// top-K classes per input and writes the logits (.npy) and a JSON record.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/arch_arg.h"
#include "cli/inputs_arg.h"
#include "cli/output_file.h"
#include "cli/weights_arg.h"
#include "profilers/backends.h"
#include "weights/eval_transform.h"
#include "weights/npy.h"
#include "weights/safetensors.h"

namespace hwnas::cli {
namespace {

using nlohmann::json;

std::vector<std::string> read_labels(const std::string& path, std::int64_t classes) {
  std::ifstream f(path);
  if (!f) throw UsageError(fmt::format("--labels {}: cannot open", path));
  std::vector<std::string> labels;
  for (std::string line; std::getline(f, line);) labels.push_back(line);
  if (static_cast<std::int64_t>(labels.size()) != classes)
    throw UsageError(fmt::format("--labels {}: {} lines, the architecture has {} classes (one label per line)", path,
                                 labels.size(), classes));
  return labels;
}

struct Top {
  std::int64_t cls;
  float logit;
  double prob;
};

std::vector<Top> top_k(std::span<const float> logits, int k) {
  const float mx = *std::max_element(logits.begin(), logits.end());
  double z = 0;
  for (float v : logits) z += std::exp(static_cast<double>(v) - mx);
  std::vector<std::int64_t> idx(logits.size());
  std::iota(idx.begin(), idx.end(), 0);
  const auto n = std::min<std::size_t>(static_cast<std::size_t>(k), idx.size());
  std::partial_sort(
      idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n), idx.end(),
      [&](std::int64_t a, std::int64_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  std::vector<Top> out;
  for (std::size_t i = 0; i < n; ++i) {
    const float l = logits[static_cast<std::size_t>(idx[i])];
    out.push_back({idx[i], l, std::exp(static_cast<double>(l) - mx) / z});
  }
  return out;
}

}  // namespace

int run_run(const Args& args) {
  const std::string usage =
      "hwnas run (--preset NAME | FILE) --weights W.safetensors (--input T.npy | --image FILE... | --images DIR)\n"
      "          [--top K] [--logits OUT.npy] [--json OUT] [--labels FILE] [--crop-pct P] [--batch N]\n"
      "          [--names CONVENTION] [--device cpu|cuda:N] [--threads T] [--dtype f32|bf16|f16]";
  po::options_description desc("run: a trained network on real inputs, top-K classes and logits");
  po::positional_options_description positional;
  add_arch_options(desc, positional);
  add_convention_option(desc);
  desc.add_options()("weights", po::value<std::string>(), "trained weights (safetensors)")(
      "input", po::value<std::string>(),
      "an input tensor [N, C, H, W] or [C, H, W] (.npy, float32/64; no preprocessing)")(
      "image", po::value<std::vector<std::string>>()->multitoken(), "JPEG or PNG files")(
      "images", po::value<std::string>(), "a folder of JPEG/PNG files (recursive, sorted by path)")(
      "top", po::value<int>()->default_value(5), "classes to print per input")(
      "logits", po::value<std::string>(), "write the logits [N, classes] as .npy float32")(
      "json", po::value<std::string>(), "write inputs, top-K and logits as JSON")("labels", po::value<std::string>(),
                                                                                  "class names, one per line")(
      "crop-pct", po::value<double>()->default_value(0.875), "resize the shorter side to size/crop-pct, then crop")(
      "batch", po::value<std::int64_t>()->default_value(8), "inputs per pass")(
      "device", po::value<std::string>()->default_value("cpu"), "cpu, cuda or cuda:N")(
      "threads", po::value<int>()->default_value(0), "threads (0 = every CPU available)")(
      "dtype", po::value<std::string>()->default_value("f32"), "f32, bf16 (CPUs with AVX512_BF16) or f16 (GPU)");
  po::variables_map vm;
  if (!parse_options(usage, desc, positional, args, vm)) return kExitOk;
  if (vm.count("weights") == 0) throw UsageError("--weights W.safetensors is required (see hwnas run --help)");
  const space::Arch arch = arch_from_options(vm, usage);
  const int k = vm["top"].as<int>();
  if (k < 1) throw UsageError("--top: must be >= 1");
  weights::EvalTransform transform;
  transform.size = arch.input.height;
  transform.crop_pct = vm["crop-pct"].as<double>();
  if (!(transform.crop_pct > 0.0 && transform.crop_pct <= 2.0)) throw UsageError("--crop-pct: must be in (0, 2]");
  const std::int64_t batch_max = vm["batch"].as<std::int64_t>();
  if (batch_max < 1 || batch_max > 4096) throw UsageError("--batch: must be in [1, 4096]");
  prof::RunConfig cfg;
  auto dt = prof::dtype_from(vm["dtype"].as<std::string>());
  if (!dt) throw UsageError(fmt::format("--dtype: must be f32, bf16 or f16 (got '{}')", vm["dtype"].as<std::string>()));
  cfg.dtype = *dt;
  cfg.threads = vm["threads"].as<int>();
  if (cfg.threads < 0) throw UsageError("--threads: must be >= 0");

  // Everything the user gave is checked before any work or any output.
  const space::Convention names = convention_from_options(vm, arch);
  const std::string weights_path = vm["weights"].as<std::string>();
  const auto checkpoint = open_weights_or_usage_error(weights_path, arch, names);
  Inputs in = inputs_from_options(vm, arch);
  std::vector<std::string> labels;
  if (vm.count("labels") != 0) labels = read_labels(vm["labels"].as<std::string>(), arch.input.classes);
  const auto n = static_cast<std::int64_t>(in.sources.size());
  cfg.batch = std::min(batch_max, n);

  auto device = prof::parse_device(vm["device"].as<std::string>());
  if (!device) throw UsageError(device.error().message);
  auto made = prof::make_backend(*device, cfg.threads);
  if (!made) throw RuntimeFailure(fmt::format("--device {}: {}", device->str(), made.error().message));
  prof::Backend& backend = **made;
  if (auto why = backend.unsupported(arch, cfg); !why.empty()) throw UsageError(fmt::format("cannot run: {}", why));
  auto runnable = backend.prepare(arch, prof::Subject::network(), cfg, *checkpoint);
  if (!runnable) throw RuntimeFailure(runnable.error().message);
  prof::Runnable& net = **runnable;

  const std::int64_t per_input = arch.input.channels * arch.input.height * arch.input.width;
  const std::int64_t classes = arch.input.classes;
  std::vector<float> logits(static_cast<std::size_t>(n * classes));
  std::vector<float> x(static_cast<std::size_t>(cfg.batch * per_input));
  const bool tty = isatty(fileno(stderr)) != 0;
  for (std::int64_t first = 0; first < n; first += cfg.batch) {
    const std::int64_t count = std::min(cfg.batch, n - first);
    std::fill(x.begin(), x.end(), 0.0f);  // a short last batch runs padded with zeros
    for (std::int64_t i = 0; i < count; ++i) {
      load_input(in, first + i, transform,
                 std::span<float>(x.data() + i * per_input, static_cast<std::size_t>(per_input)));
    }
    net.set_input(x);
    net.run();
    const std::vector<float> out = net.output();
    std::copy(out.begin(), out.begin() + count * classes, logits.begin() + first * classes);
    if (tty && n > cfg.batch) fmt::print(stderr, "\rrun: {}/{} inputs", first + count, n);
  }
  if (tty && n > cfg.batch) fmt::print(stderr, "\n");

  json record = {{"arch", arch.meta.name},    {"weights", weights_path},           {"names", space::name_of(names)},
                 {"backend", backend.name()}, {"dtype", prof::name_of(cfg.dtype)}, {"inputs", json::array()}};
  for (std::int64_t i = 0; i < n; ++i) {
    std::span<const float> row(logits.data() + i * classes, static_cast<std::size_t>(classes));
    const auto top = top_k(row, k);
    std::string line;
    json tops = json::array();
    for (const Top& t : top) {
      const std::string name = labels.empty() ? std::to_string(t.cls) : labels[static_cast<std::size_t>(t.cls)];
      line += fmt::format("  {} ({:.1f}%)", name, 100.0 * t.prob);
      tops.push_back({{"class", t.cls}, {"prob", t.prob}, {"logit", t.logit}});
      if (!labels.empty()) tops.back()["label"] = name;
    }
    fmt::print("{}:{}\n", in.sources[static_cast<std::size_t>(i)], line);
    record["inputs"].push_back({{"source", in.sources[static_cast<std::size_t>(i)]},
                                {"top", tops},
                                {"logits", std::vector<float>(row.begin(), row.end())}});
  }
  if (vm.count("logits") != 0) {
    const std::string path = vm["logits"].as<std::string>();
    auto put = weights::write_npy(path, {n, classes}, logits);
    if (!put) throw RuntimeFailure(put.error().message);
  }
  if (vm.count("json") != 0) {
    write_output_file(vm["json"].as<std::string>(), record.dump(1) + "\n");
  }
  return kExitOk;
}

}  // namespace hwnas::cli
