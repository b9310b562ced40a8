#include "search/count_estimators.h"

#include "space/count.h"
#include "space/ops.h"

namespace hwnas::search {
namespace {

class CountEstimator final : public Estimator {
 public:
  explicit CountEstimator(bool params) : params_(params) {}
  std::string name() const override { return params_ ? "params" : "macs"; }
  std::string cache_key() const override { return name(); }
  Result<double> estimate(const space::Arch& arch, const std::string&) override {
    thread_local space::Lowerer lowerer;  // estimates every candidate the search ranks: no allocation
    auto net = lowerer.lower(arch);
    if (!net) return net.error();
    const space::Counts c = space::count(**net);
    return params_ ? static_cast<double>(c.params) / 1e6 : static_cast<double>(c.macs) / 1e9;
  }

 private:
  bool params_;
};

}  // namespace

std::unique_ptr<Estimator> make_count_estimator(std::string_view name) {
  if (name == "params") return std::make_unique<CountEstimator>(true);
  if (name == "macs") return std::make_unique<CountEstimator>(false);
  return nullptr;
}

}  // namespace hwnas::search
