// Progress of long work in phases ("sensitivity 40/120"): on a terminal one line redrawn in place
// with the elapsed time and an ETA, otherwise a plain line at each tenth of a phase (logs stay short).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace hwnas::cli {

class PhaseProgress {
 public:
  explicit PhaseProgress(std::FILE* out);
  void operator()(std::string_view phase, std::size_t done, std::size_t total);

 private:
  std::FILE* out_;
  bool tty_;
  std::string phase_;
  std::chrono::steady_clock::time_point start_;
  std::size_t last_tenth_ = 0;
};

}  // namespace hwnas::cli
