// The weights arguments of run, profile and weights: --names CONVENTION (default: the preset's
// project, else hwnas) and --weights FILE opened as the engine's weight source.
#pragma once

#include <memory>
#include <string>

#include "cli/options.h"
#include "space/arch.h"
#include "space/checkpoint_names.h"
#include "space/ops.h"
#include "weights/checkpoint.h"

namespace hwnas::cli {

void add_convention_option(po::options_description& desc);
// --names if given (a bad name throws UsageError), else the arch's default convention.
space::Convention convention_from_options(const po::variables_map& vm, const space::Arch& arch);
// Lowers the arch (its error is a UsageError).
space::Lowered lowered_or_usage_error(const space::Arch& arch);
// Opens and checks `path` against the network; a file that does not fit throws UsageError.
std::unique_ptr<weights::CheckpointWeights> open_weights_or_usage_error(const std::string& path,
                                                                        const space::Arch& arch, space::Convention c);

// The weights a command runs with: the checkpoint of --weights (opened into `checkpoint`, checked
// against the arch) if given, else `random`.
const space::WeightSource& weights_from_options(const po::variables_map& vm, const space::Arch& arch,
                                                const space::WeightSource& random,
                                                std::unique_ptr<weights::CheckpointWeights>& checkpoint);

}  // namespace hwnas::cli
