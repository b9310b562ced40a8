// HTML text helpers: every piece of text that reaches the page goes through escape(); numbers are
// formatted once here so that tables, hover titles and axes agree.
#pragma once

#include <string>
#include <string_view>

namespace hwnas::reports {

// &, <, >, " and ' as entities; control characters other than tab/newline dropped. Safe in text and
// in double- or single-quoted attributes.
std::string escape(std::string_view text);

// Significant-digit formatting for people: 3 significant digits, no exponent between 1e-3 and 1e6
// ("12.3", "0.0451", "1.23e+07"); thousands grouped for integers ("4,599,000").
std::string fmt_sig(double v, int digits = 3);
std::string fmt_int(long long v);
std::string fmt_ms(double ms);                           // "12.3 ms", "451 µs" below 1 ms
std::string fmt_pct(double fraction, int decimals = 1);  // 0.123 → "12.3%"
std::string fmt_count(double v);                         // 4.6e9 → "4.60 G", 22e6 → "22.1 M"

}  // namespace hwnas::reports
