#include "cli/phase_progress.h"

#include <fmt/format.h>
#include <unistd.h>

namespace hwnas::cli {

PhaseProgress::PhaseProgress(std::FILE* out) : out_(out), tty_(isatty(fileno(out)) != 0) {}

void PhaseProgress::operator()(std::string_view phase, std::size_t done, std::size_t total) {
  const auto now = std::chrono::steady_clock::now();
  if (phase != phase_) {
    phase_ = phase;
    start_ = now;
    last_tenth_ = 0;
  }
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = done > 0 ? elapsed * static_cast<double>(total - done) / static_cast<double>(done) : 0;
  const std::string line = fmt::format("{}: {}/{}  {:.0f} s elapsed, ETA {:.0f} s", phase, done, total, elapsed, eta);
  if (tty_) {
    fmt::print(out_, "\r{:<72}{}", line, done == total ? "\n" : "");
  } else {
    const std::size_t tenth = total > 0 ? done * 10 / total : 10;
    if (tenth == last_tenth_ && done != total) return;
    last_tenth_ = tenth;
    fmt::print(out_, "{}\n", line);
  }
  std::fflush(out_);
}

}  // namespace hwnas::cli
