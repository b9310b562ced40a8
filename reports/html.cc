#include "reports/html.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace hwnas::reports {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') break;
        out += c;
    }
  }
  return out;
}

std::string fmt_sig(double v, int digits) {
  if (!std::isfinite(v)) return v != v ? "nan" : (v > 0 ? "inf" : "-inf");
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e6 || a < 1e-3) return fmt::format("{:.{}e}", v, digits - 1);
  const int magnitude = static_cast<int>(std::floor(std::log10(a)));
  const int decimals = std::max(0, digits - 1 - magnitude);
  return fmt::format("{:.{}f}", v, decimals);
}

std::string fmt_int(long long v) {
  std::string digits = std::to_string(std::llabs(v));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string fmt_ms(double ms) {
  if (std::abs(ms) < 1 && ms != 0) return fmt_sig(ms * 1000) + " µs";
  return fmt_sig(ms) + " ms";
}

std::string fmt_pct(double fraction, int decimals) {
  return fmt::format("{:.{}f}%", 100 * fraction, decimals);
}

std::string fmt_count(double v) {
  const double a = std::abs(v);
  if (a >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.1f} M", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.1f} k", v / 1e3);
  return fmt_sig(v);
}

}  // namespace hwnas::reports
