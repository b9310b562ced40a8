#include "cost_models/model_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cost_models/fit.h"
#include "cost_models/test_util.h"

namespace hwnas::cost {
namespace {

ModelKey key() {
  ModelKey k;
  k.device = "0123456789abcdef";
  k.device_model = "Test CPU (2 threads)";
  k.backend = "fake";
  k.batch = 8;
  k.dtype = "f32";
  k.threads = 2;
  return k;
}

Model fitted() {
  const auto archs = testing::sample_archs("hybrid-vit", 25, 9);
  const auto rule = [](const UnitFeatures& f) { return std::max(f.roof.macs / 80.0, f.roof.bytes / 30.0) + 2.5; };
  auto m = fit(testing::unit_samples(archs, 8, rule), testing::network_samples(archs, 8, rule, 1.0, 1.5), key());
  EXPECT_TRUE(m);
  return std::move(m).value();
}

TEST(ModelJson, RoundTripsExactly) {
  const Model m = fitted();
  const std::string text = to_json_text(m);
  auto back = model_from_json(text, "model");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(to_json_text(*back), text);
  EXPECT_TRUE(back->key.same_config(m.key));
  EXPECT_EQ(back->has_group, m.has_group);
  for (const space::Arch& a : testing::sample_archs("hybrid-vit", 10, 77)) {
    auto p = m.predict_us(a), q = back->predict_us(a);
    ASSERT_TRUE(p && q);
    EXPECT_EQ(*p, *q);  // bit for bit: JSON keeps doubles exactly
  }
}

TEST(ModelJson, AnotherDeviceOrDtypeIsRefusedClearly) {
  const Model m = fitted();
  ModelKey other = key();
  other.device = "fedcba9876543210";
  other.device_model = "Other CPU (2 threads)";
  const std::string why = incompatibility(m.key, other);
  EXPECT_NE(why.find("another device (Test CPU (2 threads) [0123456789abcdef])"), std::string::npos) << why;
  EXPECT_NE(why.find("hwnas calibrate"), std::string::npos) << why;
  other = key();
  other.dtype = "bf16";
  EXPECT_NE(incompatibility(m.key, other).find("dtype f32, not bf16"), std::string::npos);
  other = key();
  other.batch = 1;
  EXPECT_NE(incompatibility(m.key, other).find("batch 8, not 1"), std::string::npos);
  EXPECT_EQ(incompatibility(m.key, key()), "");
}

TEST(ModelJson, BadFieldsAreNamed) {
  auto j = nlohmann::json::parse(to_json_text(fitted()));
  auto refuse = [](const nlohmann::json& doc) {
    auto r = model_from_json(doc.dump(), "m.json");
    return r ? std::string("accepted") : r.error().message;
  };
  auto newer = j;
  newer["format_version"] = 99;
  EXPECT_NE(refuse(newer).find("m.json: format_version: 99 is newer than this hwnas (1)"), std::string::npos);
  auto neg = j;
  neg["network"]["scale"] = -1;
  EXPECT_EQ(refuse(neg), "m.json: network.scale: must be >= 0 (got -1)");
  auto missing = j;
  missing["key"].erase("dtype");
  EXPECT_EQ(refuse(missing), "m.json: key.dtype: missing");
  auto features = j;
  features["features"][0] = "flops";
  EXPECT_NE(refuse(features).find("features: differ"), std::string::npos);
  auto group = j;
  group["groups"]["block/nonsense"] = j["fallback"];
  EXPECT_EQ(refuse(group), "m.json: groups.block/nonsense: unknown unit group");
  EXPECT_EQ(refuse(nlohmann::json::parse("[1]")), "m.json: format: missing");
  auto r = model_from_json("{", "m.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "m.json: not valid JSON");
}

}  // namespace
}  // namespace hwnas::cost
