#include "store/records.h"

#include <array>
#include <random>

#include "space/canonical.h"

namespace hwnas::store {
namespace {

constexpr std::array<std::string_view, 3> kSubjectKinds = {"network", "unit", "step"};
static_assert(kSubjectKinds.size() == static_cast<std::size_t>(SubjectKind::step) + 1);

constexpr std::array<std::string_view, 4> kSearchStatuses = {"running", "done", "failed", "stopped"};
static_assert(kSearchStatuses.size() == static_cast<std::size_t>(SearchStatus::stopped) + 1);

template <class E, std::size_t N>
std::optional<E> from_table(const std::array<std::string_view, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

std::string_view name_of(SubjectKind k) {
  return kSubjectKinds[static_cast<std::size_t>(k)];
}
std::optional<SubjectKind> subject_kind_from(std::string_view s) {
  return from_table<SubjectKind>(kSubjectKinds, s);
}

std::string_view name_of(SearchStatus s) {
  return kSearchStatuses[static_cast<std::size_t>(s)];
}
std::optional<SearchStatus> search_status_from(std::string_view s) {
  return from_table<SearchStatus>(kSearchStatuses, s);
}

std::string subject_hash(std::string_view arch_hash, std::string_view label) {
  std::string bytes(arch_hash);
  bytes += '/';
  bytes += label;
  return space::hash_hex(space::hash64(bytes));
}

std::string new_search_run_id() {
  std::random_device rd;
  const std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return space::hash_hex(v);
}

}  // namespace hwnas::store
