// hwnas weights: the parameter tensors an architecture expects (names in the convention of the
// project its weights come from, shapes), a check of a safetensors file against them, and a file of
// seeded random weights in that convention.
#include <map>

#include <fmt/format.h>

#include "cli/arch_arg.h"
#include "cli/table.h"
#include "cli/weights_arg.h"
#include "profilers/weight_source.h"
#include "space/checkpoint_names.h"
#include "space/params.h"
#include "weights/safetensors.h"

namespace hwnas::cli {
namespace {

std::vector<weights::ExpectedTensor> expected_of(const space::Arch& arch, const po::variables_map& vm,
                                                 space::Convention* used) {
  *used = convention_from_options(vm, arch);
  return weights::expected_tensors(lowered_or_usage_error(arch), *used);
}

int weights_list(const Args& args) {
  const std::string usage = "hwnas weights list (--preset NAME | FILE) [--names CONVENTION]";
  po::options_description desc("weights list: the parameter tensors an architecture expects");
  po::positional_options_description positional;
  add_arch_options(desc, positional);
  add_convention_option(desc);
  po::variables_map vm;
  if (!parse_options(usage, desc, positional, args, vm)) return kExitOk;
  const space::Arch arch = arch_from_options(vm, usage);
  space::Convention c{};
  const auto expected = expected_of(arch, vm, &c);
  Table t(
      {{"name", Table::Align::left}, {"shape", Table::Align::left}, {"elements"}, {"hwnas name", Table::Align::left}});
  std::int64_t total = 0;
  for (const weights::ExpectedTensor& e : expected) {
    t.add_row({e.name, weights::shape_text(e.spec.shape), std::to_string(e.spec.numel()),
               e.name == e.spec.name ? "" : e.spec.name});
    total += e.spec.numel();
  }
  t.print(stdout);
  fmt::print("{} tensors, {} values ({} names)\n", expected.size(), total, space::name_of(c));
  return kExitOk;
}

int weights_check(const Args& args) {
  const std::string usage = "hwnas weights check (--preset NAME | ARCH.json) WEIGHTS.safetensors [--names CONVENTION]";
  po::options_description desc("weights check: missing, unexpected and mis-shaped tensors of a weights file");
  po::positional_options_description positional;
  add_arch_options(desc, positional);
  desc.add_options()("weights", po::value<std::string>(), "the safetensors file");
  positional.add("weights", 1);
  add_convention_option(desc);
  po::variables_map vm;
  if (!parse_options(usage, desc, positional, args, vm)) return kExitOk;
  // With --preset the one positional argument is the weights file.
  std::string weights_path;
  if (vm.count("weights") != 0) {
    weights_path = vm["weights"].as<std::string>();
  } else if (vm.count("preset") != 0 && vm.count("file") != 0) {
    weights_path = vm["file"].as<std::string>();
    vm.erase("file");
  }
  if (weights_path.empty()) throw UsageError("usage: " + usage);
  const space::Arch arch = arch_from_options(vm, usage);
  space::Convention c{};
  const auto expected = expected_of(arch, vm, &c);
  auto file = weights::SafetensorsFile::open(weights_path);
  if (!file) throw UsageError(file.error().message);
  const std::vector<std::string> problems = weights::check_tensors(*file, expected);
  for (const std::string& p : problems) fmt::print("{}: {}\n", weights_path, p);
  if (!problems.empty()) {
    fmt::print(stderr, "{}: {} problem(s) against {} ({} names, {} tensors expected)\n", weights_path, problems.size(),
               arch.meta.name.empty() ? "the architecture" : arch.meta.name, space::name_of(c), expected.size());
    return kExitUsage;
  }
  fmt::print("{}: ok: all {} tensors of {} present with their shapes ({} names)\n", weights_path, expected.size(),
             arch.meta.name.empty() ? "the architecture" : arch.meta.name, space::name_of(c));
  return kExitOk;
}

int weights_init(const Args& args) {
  const std::string usage =
      "hwnas weights init (--preset NAME | FILE) -o OUT.safetensors [--names CONVENTION] [--seed S] [--dtype "
      "f32|f16|bf16]";
  po::options_description desc("weights init: seeded random weights (the profiler's) as a safetensors file");
  po::positional_options_description positional;
  add_arch_options(desc, positional);
  add_convention_option(desc);
  desc.add_options()("output,o", po::value<std::string>(), "the file to write")(
      "seed", po::value<std::uint64_t>()->default_value(0x5eed), "random seed")(
      "dtype", po::value<std::string>()->default_value("f32"), "f32, f16 or bf16");
  po::variables_map vm;
  if (!parse_options(usage, desc, positional, args, vm)) return kExitOk;
  if (vm.count("output") == 0) throw UsageError("-o OUT.safetensors is required");
  const std::string dt = vm["dtype"].as<std::string>();
  const weights::DType dtype = dt == "f16"    ? weights::DType::f16
                               : dt == "bf16" ? weights::DType::bf16
                                              : weights::DType::f32;
  if (dt != "f32" && dt != "f16" && dt != "bf16")
    throw UsageError(fmt::format("--dtype: must be f32, f16 or bf16 (got '{}')", dt));
  const space::Arch arch = arch_from_options(vm, usage);
  space::Convention c{};
  const auto expected = expected_of(arch, vm, &c);
  const prof::RandomWeights random(vm["seed"].as<std::uint64_t>());
  const std::string out = vm["output"].as<std::string>();
  auto put = weights::write_checkpoint(out, lowered_or_usage_error(arch), c, random, dtype,
                                       {{"format", "pt"}, {"hwnas_names", std::string(space::name_of(c))}});
  if (!put) throw RuntimeFailure(put.error().message);
  fmt::print("wrote {}: {} tensors ({} names, {}, seed {})\n", out, expected.size(), space::name_of(c), dt,
             vm["seed"].as<std::uint64_t>());
  return kExitOk;
}

}  // namespace

int run_weights(const Args& args) {
  static const std::vector<Command> kSub = {
      {"list", "the parameter tensors an architecture expects: names (timm / official / hwnas) and shapes",
       weights_list},
      {"check", "a safetensors file against an architecture: missing, unexpected and mis-shaped tensors",
       weights_check},
      {"init", "seeded random weights as a safetensors file with the checkpoint names", weights_init},
  };
  return dispatch(kSub, "hwnas weights", args);
}

}  // namespace hwnas::cli
