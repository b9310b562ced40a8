#include "cost_models/model.h"

#include <algorithm>

namespace hwnas::cost {

std::string_view name_of(Form f) {
  switch (f) {
    case Form::sum: return "sum";
    case Form::roofline: return "roofline";
    case Form::kCount: break;
  }
  return "?";
}

std::optional<Form> form_from(std::string_view s) {
  if (s == "sum") return Form::sum;
  if (s == "roofline") return Form::roofline;
  return std::nullopt;
}

double UnitModel::predict_us(const UnitFeatures& f) const {
  if (!f.runs) return 0;
  switch (form) {
    case Form::sum: {
      double t = 0;
      for (std::size_t i = 0; i < kFeatureCount; ++i) t += theta[i] * f.x[i];
      return t;
    }
    case Form::roofline: return std::max(us_per_mac * f.roof.macs, us_per_byte * f.roof.bytes) + overhead_us;
    case Form::kCount: break;
  }
  return 0;
}

double Model::compose(double sum_units_us, std::size_t running_units) const {
  return network.scale * sum_units_us +
         network.inter_unit_us * static_cast<double>(running_units > 0 ? running_units - 1 : 0);
}

double Model::predict_us(const space::Arch& arch, const space::Lowered& net) const {
  double sum = 0;
  for (const space::Unit& u : net.units) sum += predict_unit_us(group_of(arch, u), unit_features(u, key.batch));
  return compose(sum, net.running_units());
}

Result<double> Model::predict_us(const space::Arch& arch) const {
  thread_local space::Lowerer lowerer;  // the search loop predicts archs back to back: no allocation
  auto net = lowerer.lower(arch);
  if (!net) return net.error();
  return predict_us(arch, **net);
}

std::vector<UnitPrediction> Model::predict_units(const space::Arch& arch, const space::Lowered& net) const {
  std::vector<UnitPrediction> out;
  for (const space::Unit& u : net.units) {
    const Group g = group_of(arch, u);
    const UnitFeatures f = unit_features(u, key.batch);
    out.push_back({u.label, group_name(g), predict_unit_us(g, f), f.roof.macs});
  }
  return out;
}

}  // namespace hwnas::cost
