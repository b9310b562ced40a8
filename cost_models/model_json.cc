#include "cost_models/model_json.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hwnas::cost {
namespace {

using nlohmann::json;

json unit_model_json(const UnitModel& u) {
  json j = {
      {"form", std::string(name_of(u.form))}, {"samples", u.samples}, {"cv_mape", u.cv_mape}, {"pooled", u.pooled}};
  if (u.form == Form::sum) {
    json theta = json::object();
    for (std::size_t i = 0; i < kFeatureCount; ++i) theta[std::string(name_of(static_cast<Feature>(i)))] = u.theta[i];
    j["theta"] = theta;
  } else {
    j["us_per_mac"] = u.us_per_mac;
    j["us_per_byte"] = u.us_per_byte;
    j["overhead_us"] = u.overhead_us;
    j["peak_gflops"] = u.peak_gflops();
    j["bandwidth_gbs"] = u.bandwidth_gbs();
  }
  return j;
}

// Field access that names the path of what is missing or wrong.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  const json& member(const json& obj, const std::string& path, const char* name) const {
    if (!obj.is_object() || !obj.contains(name)) throw Fail{fmt::format("{}: {}{}: missing", source_, path, name)};
    return obj.at(name);
  }
  double number(const json& obj, const std::string& path, const char* name, bool non_negative = true) const {
    const json& v = member(obj, path, name);
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      throw Fail{fmt::format("{}: {}{}: must be a finite number", source_, path, name)};
    const double d = v.get<double>();
    if (non_negative && d < 0) throw Fail{fmt::format("{}: {}{}: must be >= 0 (got {})", source_, path, name, d)};
    return d;
  }
  std::int64_t integer(const json& obj, const std::string& path, const char* name) const {
    const json& v = member(obj, path, name);
    if (!v.is_number_integer()) throw Fail{fmt::format("{}: {}{}: must be an integer", source_, path, name)};
    return v.get<std::int64_t>();
  }
  std::string text(const json& obj, const std::string& path, const char* name) const {
    const json& v = member(obj, path, name);
    if (!v.is_string()) throw Fail{fmt::format("{}: {}{}: must be a string", source_, path, name)};
    return v.get<std::string>();
  }
  bool boolean(const json& obj, const std::string& path, const char* name) const {
    const json& v = member(obj, path, name);
    if (!v.is_boolean()) throw Fail{fmt::format("{}: {}{}: must be true or false", source_, path, name)};
    return v.get<bool>();
  }
  [[noreturn]] void fail(const std::string& path, const std::string& rule) const {
    throw Fail{fmt::format("{}: {}: {}", source_, path, rule)};
  }

  struct Fail {
    std::string message;
  };

 private:
  std::string source_;
};

UnitModel unit_model_from(const Reader& r, const json& j, const std::string& path) {
  UnitModel u;
  const std::string form = r.text(j, path, "form");
  const auto f = form_from(form);
  if (!f) r.fail(path + "form", fmt::format("must be sum or roofline (got '{}')", form));
  u.form = *f;
  u.samples = r.integer(j, path, "samples");
  u.cv_mape = r.number(j, path, "cv_mape");
  u.pooled = r.boolean(j, path, "pooled");
  if (u.form == Form::sum) {
    const json& theta = r.member(j, path, "theta");
    for (std::size_t i = 0; i < kFeatureCount; ++i) {
      const std::string name(name_of(static_cast<Feature>(i)));
      u.theta[i] = r.number(theta, path + "theta.", name.c_str());
    }
    if (theta.size() != kFeatureCount) r.fail(path + "theta", fmt::format("must have {} features", kFeatureCount));
  } else {
    u.us_per_mac = r.number(j, path, "us_per_mac");
    u.us_per_byte = r.number(j, path, "us_per_byte");
    u.overhead_us = r.number(j, path, "overhead_us");
  }
  return u;
}

}  // namespace

std::string to_json_text(const Model& m) {
  json features = json::array();
  for (std::size_t i = 0; i < kFeatureCount; ++i) features.push_back(std::string(name_of(static_cast<Feature>(i))));
  json groups = json::object();
  for (std::size_t g = 0; g < kGroupSlots; ++g) {
    if (!m.has_group[g]) continue;
    const Group grp{static_cast<space::UnitKind>(g / 16), static_cast<std::uint8_t>(g % 16)};
    groups[group_name(grp)] = unit_model_json(m.groups[g]);
  }
  json j = {
      {"format", "hwnas-cost-model"},
      {"format_version", Model::kFormatVersion},
      {"kind", kModelKind},
      {"key",
       {{"device", m.key.device},
        {"device_model", m.key.device_model},
        {"backend", m.key.backend},
        {"batch", m.key.batch},
        {"dtype", m.key.dtype},
        {"threads", m.key.threads}}},
      {"features", features},
      {"groups", groups},
      {"fallback", unit_model_json(m.fallback)},
      {"network",
       {{"scale", m.network.scale}, {"inter_unit_us", m.network.inter_unit_us}, {"samples", m.network.samples}}},
      {"band",
       {{"source", m.band.source}, {"n", m.band.n}, {"q05", m.band.q05}, {"q50", m.band.q50}, {"q95", m.band.q95}}},
      {"trained", json::parse(m.trained_json, nullptr, false)},
      {"evaluation", json::parse(m.evaluation_json, nullptr, false)}};
  return j.dump();
}

Result<Model> model_from_json(const std::string& text, const std::string& source) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Error{fmt::format("{}: not valid JSON", source)};
  const Reader r(source);
  try {
    if (r.text(j, "", "format") != "hwnas-cost-model") r.fail("format", "must be 'hwnas-cost-model'");
    const std::int64_t version = r.integer(j, "", "format_version");
    if (version > Model::kFormatVersion)
      r.fail("format_version",
             fmt::format("{} is newer than this hwnas ({}); upgrade hwnas or refit", version, Model::kFormatVersion));
    if (version < 1) r.fail("format_version", fmt::format("must be >= 1 (got {})", version));
    if (const std::string kind = r.text(j, "", "kind"); kind != kModelKind)
      r.fail("kind", fmt::format("must be '{}' (got '{}')", kModelKind, kind));
    Model m;
    const json& key = r.member(j, "", "key");
    m.key.device = r.text(key, "key.", "device");
    m.key.device_model = r.text(key, "key.", "device_model");
    m.key.backend = r.text(key, "key.", "backend");
    m.key.batch = r.integer(key, "key.", "batch");
    if (m.key.batch < 1) r.fail("key.batch", "must be >= 1");
    m.key.dtype = r.text(key, "key.", "dtype");
    m.key.threads = static_cast<int>(r.integer(key, "key.", "threads"));
    const json& features = r.member(j, "", "features");
    bool same = features.is_array() && features.size() == kFeatureCount;
    for (std::size_t i = 0; same && i < kFeatureCount; ++i)
      same = features[i].is_string() && features[i].get<std::string>() == name_of(static_cast<Feature>(i));
    if (!same) r.fail("features", "differ from this hwnas's feature list: refit with 'hwnas fit'");
    const json& groups = r.member(j, "", "groups");
    if (!groups.is_object()) r.fail("groups", "must be an object");
    for (const auto& [name, g] : groups.items()) {
      const auto grp = group_from_name(name);
      if (!grp) r.fail("groups." + name, "unknown unit group");
      m.groups[grp->index()] = unit_model_from(r, g, "groups." + name + ".");
      m.has_group[grp->index()] = true;
    }
    m.fallback = unit_model_from(r, r.member(j, "", "fallback"), "fallback.");
    const json& net = r.member(j, "", "network");
    m.network.scale = r.number(net, "network.", "scale");
    m.network.inter_unit_us = r.number(net, "network.", "inter_unit_us");
    m.network.samples = r.integer(net, "network.", "samples");
    const json& band = r.member(j, "", "band");
    m.band.source = r.text(band, "band.", "source");
    m.band.n = r.integer(band, "band.", "n");
    m.band.q05 = r.number(band, "band.", "q05", false);
    m.band.q50 = r.number(band, "band.", "q50", false);
    m.band.q95 = r.number(band, "band.", "q95", false);
    m.trained_json = r.member(j, "", "trained").dump();
    m.evaluation_json = r.member(j, "", "evaluation").dump();
    return m;
  } catch (const Reader::Fail& f) {
    return Error{f.message};
  }
}

std::string incompatibility(const ModelKey& model, const ModelKey& wanted) {
  auto refit = [&] {
    return fmt::format("run 'hwnas calibrate' and 'hwnas fit' for --batch {} --dtype {} --threads {} here",
                       wanted.batch, wanted.dtype, wanted.threads);
  };
  if (model.device != wanted.device)
    return fmt::format("the cost model was fitted on another device ({} [{}]), not this one ({} [{}]): {}",
                       model.device_model, model.device, wanted.device_model, wanted.device, refit());
  if (model.backend != wanted.backend)
    return fmt::format("the cost model predicts backend {}, not {}: {}", model.backend, wanted.backend, refit());
  if (model.dtype != wanted.dtype)
    return fmt::format("the cost model predicts dtype {}, not {}: {}", model.dtype, wanted.dtype, refit());
  if (model.batch != wanted.batch)
    return fmt::format("the cost model predicts batch {}, not {}: {}", model.batch, wanted.batch, refit());
  if (model.threads != wanted.threads)
    return fmt::format("the cost model predicts {} threads, not {}: {}", model.threads, wanted.threads, refit());
  return "";
}

}  // namespace hwnas::cost
