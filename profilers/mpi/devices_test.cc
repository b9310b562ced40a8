// The --mpi-devices map: parsing (errors name file, path and rule), first-match assignment with
// {rank}/{local_rank} substitution, CPU lists, and pinning this process.
#include "profilers/mpi/devices.h"

#include <gtest/gtest.h>
#include <sched.h>

namespace hwnas::prof::mpi {
namespace {

DeviceMap parsed(const std::string& text) {
  auto m = parse_device_map(text, "d.json");
  EXPECT_TRUE(m) << (m ? "" : m.error().message);
  return m ? *m : DeviceMap{};
}

std::string error_of(const std::string& text) {
  auto m = parse_device_map(text, "d.json");
  return m ? "parsed" : m.error().message;
}

TEST(CpuList, RangesAndSinglesSortedAndDistinct) {
  auto c = parse_cpu_list("8,0-3,2");
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, (std::vector<int>{0, 1, 2, 3, 8}));
  EXPECT_FALSE(parse_cpu_list(""));
  EXPECT_FALSE(parse_cpu_list("3-1"));
  EXPECT_FALSE(parse_cpu_list("a"));
  EXPECT_FALSE(parse_cpu_list("1,,2"));
  EXPECT_FALSE(parse_cpu_list("-1"));
  EXPECT_FALSE(parse_cpu_list("99999"));
}

TEST(DeviceMapTest, FirstMatchingRuleWinsWithSubstitution) {
  const DeviceMap m = parsed(R"({"ranks": [
      {"rank": 0, "device": "cpu", "threads": 1, "cores": "0"},
      {"host": "gpu*", "device": "cuda:{local_rank}", "name": "h100-{local_rank}"},
      {"rank": [2, 3], "backend": "fake", "cores": "{rank}-{rank}"},
      {"device": "cpu", "threads": 2}]})");
  ASSERT_EQ(m.rules.size(), 4u);
  auto r0 = assign_device(m, 0, 0, "gpu01");  // rank 0 matches the first rule before the host rule
  ASSERT_TRUE(r0 && *r0);
  EXPECT_EQ((*r0)->rule, 0u);
  EXPECT_EQ((*r0)->device, "cpu");
  EXPECT_EQ((*r0)->threads, 1);
  EXPECT_EQ((*r0)->cores, (std::vector<int>{0}));
  auto g = assign_device(m, 5, 3, "gpu01");
  ASSERT_TRUE(g && *g);
  EXPECT_EQ((*g)->device, "cuda:3");
  EXPECT_EQ((*g)->name, "h100-3");
  EXPECT_EQ((*r0)->name, "");
  EXPECT_FALSE((*g)->threads);
  EXPECT_TRUE((*g)->cores.empty());
  auto f = assign_device(m, 3, 1, "cpu07");
  ASSERT_TRUE(f && *f);
  EXPECT_EQ((*f)->rule, 2u);
  EXPECT_EQ((*f)->backend, "fake");
  EXPECT_EQ((*f)->cores, (std::vector<int>{3}));
  auto rest = assign_device(m, 4, 0, "cpu07");
  ASSERT_TRUE(rest && *rest);
  EXPECT_EQ((*rest)->rule, 3u);
  EXPECT_EQ((*rest)->threads, 2);
}

TEST(DeviceMapTest, NoMatchingRuleLeavesTheRankAlone) {
  const DeviceMap m = parsed(R"({"ranks": [{"host": "gpu*", "device": "cuda"}]})");
  auto a = assign_device(m, 1, 0, "cpu07");
  ASSERT_TRUE(a);
  EXPECT_FALSE(*a);
}

TEST(DeviceMapTest, BadFilesNameFieldAndRule) {
  EXPECT_EQ(error_of("{"), "d.json: not valid JSON");
  EXPECT_NE(error_of(R"({"rules": []})").find("d.json: ranks: must be an array"), std::string::npos);
  EXPECT_NE(error_of(R"({"ranks": [], "x": 1})").find("d.json: x: unknown field"), std::string::npos);
  EXPECT_EQ(error_of(R"({"ranks": [{"rank": -1, "device": "cpu"}]})"),
            "d.json: ranks[0].rank: must be in [0, 1048576] (got -1)");
  EXPECT_NE(error_of(R"({"ranks": [{"device": "tpu"}]})").find("d.json: ranks[0].device: must be cpu, cuda or cuda:N"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ranks": [{"backend": "x"}]})").find("ranks[0].backend: must be onednn or fake"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ranks": [{"threads": 1.5}]})").find("ranks[0].threads: must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ranks": [{"cores": "2-1"}]})").find("ranks[0].cores: '2-1'"), std::string::npos);
  EXPECT_NE(error_of(R"({"ranks": [{"rank": 1}]})").find("ranks[0]: sets nothing"), std::string::npos);
  EXPECT_NE(error_of(R"({"ranks": [{"gpu": 1}]})").find("ranks[0].gpu: unknown field"), std::string::npos);
  EXPECT_NE(error_of(R"({"ranks": [{"name": "a,b"}]})").find("ranks[0].name: must be a name without"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ranks": [{"name": ""}]})").find("ranks[0].name: must be a non-empty string"),
            std::string::npos);
  EXPECT_NE(load_device_map("/nonexistent/d.json").error().message.find("/nonexistent/d.json: cannot read"),
            std::string::npos);
}

TEST(DeviceMapTest, PinningRestrictsTheAffinityMask) {
  cpu_set_t before;
  ASSERT_EQ(sched_getaffinity(0, sizeof(before), &before), 0);
  int first = -1;
  for (int c = 0; c < CPU_SETSIZE && first < 0; ++c)
    if (CPU_ISSET(c, &before)) first = c;
  ASSERT_GE(first, 0);
  auto pinned = pin_to_cores({first});
  ASSERT_TRUE(pinned) << pinned.error().message;
  cpu_set_t now;
  ASSERT_EQ(sched_getaffinity(0, sizeof(now), &now), 0);
  EXPECT_EQ(CPU_COUNT(&now), 1);
  EXPECT_TRUE(CPU_ISSET(first, &now));
  ASSERT_EQ(sched_setaffinity(0, sizeof(before), &before), 0);  // the other tests get every CPU back
}

}  // namespace
}  // namespace hwnas::prof::mpi
