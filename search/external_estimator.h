// `--objective cmd:'…'`: an external program scores each architecture (a short training run, a
// proxy in Python, a lookup in a benchmark's table). Higher is better.
//
// The command runs as `/bin/sh -c '<command> <file>'`, where <file> is the arch as JSON (space/FORMAT.md,
// with meta) in a temporary file (mkstemp in $TMPDIR or /tmp, removed afterwards), shell-quoted; where
// the command contains `{arch}`, each `{arch}` is replaced by the quoted path instead. HWNAS_ARCH
// holds the path too; stdin is /dev/null. The program prints a JSON object with a number `accuracy`
// on a line of its own on stdout: the last non-empty line that parses as a JSON object is taken,
// other lines (progress, logs) are ignored.
//
//   cmd:'python eval.py --epochs 1'        →  /bin/sh -c "python eval.py --epochs 1 '/tmp/hwnas-arch-x1Yz9Q.json'"
//   cmd:'python eval.py --arch {arch} -q'  →  /bin/sh -c "python eval.py --arch '/tmp/hwnas-arch-x1Yz9Q.json' -q"
//   prints: {"accuracy": 0.7431, "epochs": 1}
//
// Failures are values, never exceptions: a non-zero exit ("exit code 3: <last line of stderr>"), a
// signal, no such JSON line ("printed no JSON object …: 'Traceback …'"), a timeout. The program runs
// in a process group of its own: on timeout the group gets SIGTERM, then SIGKILL after the grace
// period ("timed out after 60 s"); when the program exits, whatever it left running in its group is
// killed as well. The program is always reaped.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "search/estimator.h"
#include "space/arch.h"
#include "space/result.h"

namespace hwnas::search {

struct ExternalOptions {
  double timeout_s = 60;                    // wall clock, from start to exit
  double kill_grace_s = 2;                  // SIGTERM → SIGKILL on timeout
  std::size_t max_stdout_bytes = 1 << 20;   // stdout kept (its tail: the last line is what counts)
  std::size_t max_stderr_bytes = 64 << 10;  // stderr kept (its tail)
};

// Runs `command` once on `arch_json` (the file's contents): the estimator's work for one arch.
// Messages say what went wrong without naming the command ("exit code 3: out of memory").
Result<double> run_external_estimate(const std::string& command, std::string_view arch_json,
                                     const ExternalOptions& options = {});

class ExternalEstimator final : public Estimator {
 public:
  // `command`: the text after "cmd:" (quotes already removed by the shell that ran hwnas).
  explicit ExternalEstimator(std::string command, ExternalOptions options = {});

  std::string name() const override { return "cmd:" + command_; }
  std::string cache_key() const override { return "cmd:" + command_; }
  bool cacheable() const override { return true; }
  // Errors: "cmd:<command>: <what went wrong>".
  Result<double> estimate(const space::Arch& arch, const std::string& hash) override;

 private:
  std::string command_;
  ExternalOptions options_;
};

// An Error for an empty command or a timeout that is not a positive number of seconds.
Result<std::unique_ptr<Estimator>> make_external_estimator(const std::string& command,
                                                           const ExternalOptions& options = {});

}  // namespace hwnas::search
