// hwnas export: an architecture for the tools people deploy with, with its weights (a checkpoint, or
// the profiler's seeded random ones). ONNX: a checked ModelProto (opset 17) with the weights as
// initializers named in the checkpoint convention and a symbolic batch dimension. PyTorch: a
// self-contained .py module and the weights as .safetensors beside it, named as its state_dict.
#include <fmt/format.h>

#include "cli/arch_arg.h"
#include "cli/weights_arg.h"
#include "hwnas_version.h"
#include "profilers/weight_source.h"
#include "weights/onnx_export.h"
#include "weights/pytorch_export.h"

namespace hwnas::cli {

int run_export(const Args& args) {
  const std::string usage =
      "hwnas export (--preset NAME | FILE) --format onnx|pytorch -o OUT [--weights W.safetensors] "
      "[--names CONVENTION] [--seed S]";
  po::options_description desc(
      "export: the architecture as an ONNX model (weights as initializers) or a PyTorch module (.py, weights "
      "in a .safetensors file beside it)");
  po::positional_options_description positional;
  add_arch_options(desc, positional);
  add_convention_option(desc);
  desc.add_options()("format", po::value<std::string>()->default_value("onnx"), "onnx or pytorch")(
      "output,o", po::value<std::string>(), "the file to write (pytorch: a .py file)")(
      "weights", po::value<std::string>(), "trained weights (safetensors); default: seeded random ones")(
      "seed", po::value<std::uint64_t>()->default_value(0x5eed), "seed of the random weights");
  po::variables_map vm;
  if (!parse_options(usage, desc, positional, args, vm)) return kExitOk;
  if (vm.count("output") == 0) throw UsageError("-o OUT is required (see hwnas export --help)");
  const std::string format = vm["format"].as<std::string>();
  if (format != "onnx" && format != "pytorch")
    throw UsageError(fmt::format("--format: must be onnx or pytorch (got '{}')", format));
  const std::string out = vm["output"].as<std::string>();
  if (format == "pytorch" && !out.ends_with(".py"))
    throw UsageError(fmt::format("-o {}: a PyTorch export is a .py file (its weights go beside it)", out));
  const space::Arch arch = arch_from_options(vm, usage);
  const space::Convention names = convention_from_options(vm, arch);
  const prof::RandomWeights random(vm["seed"].as<std::uint64_t>());
  std::unique_ptr<weights::CheckpointWeights> checkpoint;
  const space::WeightSource& source = weights_from_options(vm, arch, random, checkpoint);
  const std::string from = checkpoint ? "from " + vm["weights"].as<std::string>()
                                      : fmt::format("random with seed {}", vm["seed"].as<std::uint64_t>());
  if (format == "pytorch") {
    auto put = weights::write_pytorch(out, arch, source, {HWNAS_VERSION, from});
    if (!put) throw RuntimeFailure(put.error().message);
    fmt::print("wrote {} (class Net) and {}: weights {}, named as Net's state_dict (hwnas names)\n", out,
               weights::pytorch_weights_path(out), from);
    return kExitOk;
  }
  auto put = weights::write_onnx(out, arch, source, {names, HWNAS_VERSION});
  if (!put) throw RuntimeFailure(put.error().message);
  fmt::print(
      "wrote {}: ONNX opset 17, input image [batch, {}, {}, {}], output logits [batch, {}], {} names, "
      "weights {} (checked)\n",
      out, arch.input.channels, arch.input.height, arch.input.width, arch.input.classes, space::name_of(names), from);
  return kExitOk;
}

}  // namespace hwnas::cli
