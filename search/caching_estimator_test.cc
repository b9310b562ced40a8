// CachingEstimator over an in-memory cache: a cacheable estimator runs once per arch, failures are
// stored and not retried, a non-cacheable one is never cached.
#include "search/caching_estimator.h"

#include <map>
#include <utility>

#include <gtest/gtest.h>

#include "space/presets.h"

namespace hwnas::search {
namespace {

// Answers 1 + (number of calls so far) for "good" hashes, fails for others.
class FakeEstimator final : public Estimator {
 public:
  FakeEstimator(bool cacheable, int* calls) : cacheable_(cacheable), calls_(calls) {}
  std::string name() const override { return "fake"; }
  std::string cache_key() const override { return "fake:v1"; }
  bool cacheable() const override { return cacheable_; }
  Result<double> estimate(const space::Arch& /*arch*/, const std::string& hash) override {
    ++*calls_;
    if (hash.starts_with("bad")) return Error{"fake: exit code 3: boom"};
    return 1.0 + *calls_;
  }

 private:
  bool cacheable_;
  int* calls_;
};

class MemoryCache final : public EstimateCache {
 public:
  std::optional<CachedEstimate> find(const std::string& cache_key, const std::string& arch_hash) override {
    ++finds;
    auto it = rows.find({cache_key, arch_hash});
    if (it == rows.end()) return std::nullopt;
    return it->second;
  }
  void put(const std::string& cache_key, const std::string& arch_hash, const CachedEstimate& e) override {
    ++puts;
    rows[{cache_key, arch_hash}] = e;
  }
  std::map<std::pair<std::string, std::string>, CachedEstimate> rows;
  int finds = 0, puts = 0;
};

space::Arch arch() {
  auto a = space::preset("deit-tiny");
  EXPECT_TRUE(a.ok());
  return *a;
}

TEST(CachingEstimator, ASecondCallReadsTheCache) {
  int calls = 0;
  MemoryCache cache;
  CachingEstimator e(std::make_unique<FakeEstimator>(true, &calls), cache);
  EXPECT_EQ(e.name(), "fake");
  EXPECT_EQ(e.cache_key(), "fake:v1");
  EXPECT_TRUE(e.cacheable());
  const space::Arch a = arch();
  EXPECT_EQ(*e.estimate(a, "good-1"), 2);
  EXPECT_EQ(*e.estimate(a, "good-1"), 2);  // not 3: the inner estimator did not run
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(*e.estimate(a, "good-2"), 3);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(e.hits(), 1);
  EXPECT_EQ(e.misses(), 2);
  ASSERT_EQ(cache.rows.size(), 2u);
  const CachedEstimate& stored = cache.rows.at({"fake:v1", "good-1"});
  EXPECT_TRUE(stored.ok);
  EXPECT_EQ(stored.value, 2);
  EXPECT_EQ(stored.message, "");
  EXPECT_GE(stored.elapsed_ms, 0);

  // What another process stored is read the same way.
  cache.rows[{"fake:v1", "good-3"}] = CachedEstimate{true, 42.5, "", 1000};
  EXPECT_EQ(*e.estimate(a, "good-3"), 42.5);
  EXPECT_EQ(calls, 2);
}

TEST(CachingEstimator, FailuresAreStoredAndNotRunAgain) {
  int calls = 0;
  MemoryCache cache;
  CachingEstimator e(std::make_unique<FakeEstimator>(true, &calls), cache);
  const space::Arch a = arch();
  auto first = e.estimate(a, "bad-1");
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().message, "fake: exit code 3: boom");
  const CachedEstimate& stored = cache.rows.at({"fake:v1", "bad-1"});
  EXPECT_FALSE(stored.ok);
  EXPECT_EQ(stored.value, 0);
  EXPECT_EQ(stored.message, "fake: exit code 3: boom");
  auto again = e.estimate(a, "bad-1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "fake: exit code 3: boom (stored failure; not run again)");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(cache.puts, 1);
}

TEST(CachingEstimator, NonCacheableEstimatorsBypassTheCache) {
  int calls = 0;
  MemoryCache cache;
  CachingEstimator e(std::make_unique<FakeEstimator>(false, &calls), cache);
  const space::Arch a = arch();
  EXPECT_EQ(*e.estimate(a, "good-1"), 2);
  EXPECT_EQ(*e.estimate(a, "good-1"), 3);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(cache.finds, 0);
  EXPECT_EQ(cache.puts, 0);
}

TEST(CachingEstimator, WithCacheWrapsOnlyWhatIsWorthCaching) {
  int calls = 0;
  MemoryCache cache;
  auto plain = with_cache(std::make_unique<FakeEstimator>(false, &calls), &cache);
  EXPECT_EQ(dynamic_cast<CachingEstimator*>(plain.get()), nullptr);
  auto no_cache = with_cache(std::make_unique<FakeEstimator>(true, &calls), nullptr);
  EXPECT_EQ(dynamic_cast<CachingEstimator*>(no_cache.get()), nullptr);
  auto cached = with_cache(std::make_unique<FakeEstimator>(true, &calls), &cache);
  ASSERT_NE(dynamic_cast<CachingEstimator*>(cached.get()), nullptr);
  const space::Arch a = arch();
  EXPECT_EQ(*cached->estimate(a, "good"), 2);
  EXPECT_EQ(*cached->estimate(a, "good"), 2);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace hwnas::search
