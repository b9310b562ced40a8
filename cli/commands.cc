#include <fmt/format.h>

#include "cli/command.h"
#include "space/suggest.h"

namespace hwnas::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {"search", "the best architectures of a space under a latency budget on this device", run_search},
      {"report", "a self-contained HTML page comparing the store's runs, architectures, models and devices",
       run_report},
      {"run", "a trained network on images or a tensor: top-K classes and logits (safetensors weights)", run_run},
      {"export", "an architecture (and its weights) as an ONNX model or a PyTorch module", run_export},
      {"compress", "a trained network pruned for this device without training (FinerCut, latency-aware)", run_compress},
      {"profile", "time an architecture on this CPU, end to end and block by block", run_profile},
      {"device", "this machine as the profiler sees it: CPU, ISA, measured GEMM peak and bandwidth", run_device},
      {"calibrate", "measure units and networks for the cost model of this device, then fit it", run_calibrate},
      {"fit", "train the cost model from the store and print its held-out evaluation", run_fit},
      {"predict", "latency of an architecture from the cost model, with its error band", run_predict},
      {"proxy", "rank the presets by each accuracy estimator: Kendall tau vs published top-1", run_proxy},
      {"weights", "parameter tensors: list the expected names, check or create a safetensors file", run_weights},
      {"db", "the measurement store: stats, list, export, import, check", run_db},
      {"space", "architectures and search spaces: validate, show, sample", run_space},
      {"presets", "list the built-in reference architectures", run_presets},
      {"version", "print the version, git commit and library versions", run_version},
  };
  return kCommands;
}

int dispatch(const std::vector<Command>& table, const std::string& prog, const Args& args) {
  auto usage = [&](std::FILE* out) {
    fmt::print(out, "usage: {} <command> [options]   ('{} <command> --help' for its options)\n\ncommands:\n", prog,
               prog);
    for (const Command& c : table) fmt::print(out, "  {:<10} {}\n", c.name, c.summary);
  };
  if (args.empty()) {
    usage(stderr);
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    usage(stdout);
    return kExitOk;
  }
  for (const Command& c : table) {
    if (c.name == args[0]) return c.run(Args(args.begin() + 1, args.end()));
  }
  std::vector<std::string> names;
  for (const Command& c : table) names.emplace_back(c.name);
  const std::string hint = space::did_you_mean(args[0], names);
  throw UsageError(fmt::format("unknown command '{}'{}; see '{} --help'", args[0],
                               hint.empty() ? "" : fmt::format(": did you mean '{}'?", hint), prog));
}

}  // namespace hwnas::cli
