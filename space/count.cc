#include "space/count.h"

#include <fmt/format.h>

#include "space/checked.h"

namespace hwnas::space {

Counts& Counts::operator+=(const Counts& o) {
  params = detail::add(params, o.params);
  macs = detail::add(macs, o.macs);
  paper_macs = detail::add(paper_macs, o.paper_macs);
  act_bytes = detail::add(act_bytes, o.act_bytes);
  weight_bytes = detail::add(weight_bytes, o.weight_bytes);
  return *this;
}

Counts count(const Op& op) {
  return Counts{op.params, op.macs, op.paper_macs, op.out_bytes, op.weight_bytes()};
}

Counts count(const Unit& unit) {
  Counts c;
  for (const Op& op : unit.ops) c += count(op);
  return c;
}

Counts count(const Lowered& net) {
  Counts c;
  for (const Unit& u : net.units) c += count(u);
  return c;
}

std::string format_macs(std::int64_t macs) {
  const double v = static_cast<double>(macs);
  if (v >= 1e9) return fmt::format("{:.3f} GMACs", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.3f} MMACs", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.3f} KMACs", v / 1e3);
  return fmt::format("{} MACs", macs);
}

std::string format_params(std::int64_t params) {
  const double v = static_cast<double>(params);
  if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.2f}K", v / 1e3);
  return fmt::format("{}", params);
}

std::string format_bytes(std::int64_t bytes) {
  const double v = static_cast<double>(bytes);
  if (v >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", v / (1024.0 * 1024 * 1024));
  if (v >= 1024.0 * 1024) return fmt::format("{:.2f} MiB", v / (1024.0 * 1024));
  if (v >= 1024.0) return fmt::format("{:.1f} KiB", v / 1024.0);
  return fmt::format("{} B", bytes);
}

}  // namespace hwnas::space
