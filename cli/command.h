// The subcommand table: {name, summary, run}. Each subcommand parses its own options with
// Boost.Program_options into a typed struct and returns an exit code (0 ok, 1 runtime failure,
// 2 usage or bad input).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hwnas::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Thrown for bad command lines and bad input files; main() prints it and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Thrown for failures at run time; main() prints it and exits 1.
struct RuntimeFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Args = std::vector<std::string>;

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(const Args& args);  // args after the command name
};

const std::vector<Command>& commands();
// Runs `table` on args[0] with "did you mean" for unknown names; `prog` prefixes usage lines.
int dispatch(const std::vector<Command>& table, const std::string& prog, const Args& args);

int run_space(const Args& args);
int run_presets(const Args& args);
int run_version(const Args& args);
int run_profile(const Args& args);
int run_device(const Args& args);
int run_db(const Args& args);
int run_calibrate(const Args& args);
int run_fit(const Args& args);
int run_predict(const Args& args);
int run_proxy(const Args& args);
int run_search(const Args& args);
int run_report(const Args& args);
int run_weights(const Args& args);
int run_run(const Args& args);
int run_export(const Args& args);
int run_compress(const Args& args);

}  // namespace hwnas::cli
