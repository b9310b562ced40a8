// Several processes on one store: concurrent writers lose no row and see no error; a writer killed
// with SIGKILL at random points leaves a database that passes integrity_check and holds every row it
// reported committed. Real processes (fork), real files, bounded in time.
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_test_util.h"

namespace hwnas::store {
namespace {

using namespace testutil;
using Clock = std::chrono::steady_clock;

// Stores what a writer child needs (idempotent: children of one test all call it).
bool prepare(Store& s) {
  return s.put_device(device("dev-p")).ok() && s.put_arch(arch(0)).ok();
}

MeasurementRecord unit_of(const std::string& label) {
  return unit(0, "dev-p", 0, label);
}

// Waits for `pid` until `deadline`; SIGKILLs it past the deadline. Returns the wait status.
int wait_until(pid_t pid, Clock::time_point deadline) {
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return status;
}

// `n_procs` processes open `path` at the same moment and each stores `per_proc` measurements, one
// transaction each. Every child must exit 0.
void run_writers(const std::string& path, int n_procs, int per_proc) {
  int gate[2];
  ASSERT_EQ(::pipe(gate), 0);
  std::vector<pid_t> pids;
  for (int p = 0; p < n_procs; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(gate[1]);
      char c;
      (void)!::read(gate[0], &c, 1);  // released when the parent closes the gate
      auto s = Store::open(path);
      if (!s.ok()) {
        std::fprintf(stderr, "writer %d: %s\n", p, s.error().message.c_str());
        ::_exit(1);
      }
      if (!prepare(*s)) ::_exit(2);
      for (int i = 0; i < per_proc; ++i) {
        auto put = s->put_measurement(unit_of(fmt::format("p{}.m{}", p, i)), OnConflict::fail);
        if (!put.ok()) {
          std::fprintf(stderr, "writer %d: %s\n", p, put.error().message.c_str());
          ::_exit(3);
        }
      }
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  ::close(gate[0]);
  ::close(gate[1]);  // go
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  for (std::size_t p = 0; p < pids.size(); ++p) {
    const int status = wait_until(pids[p], deadline);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer " << p << " status " << status;
  }
}

TEST(Processes, FourConcurrentWritersLoseNoRow) {
  const std::string path = fresh_path("concurrent.db");
  {
    auto s = Store::open(path);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(prepare(*s));
  }
  const auto start = Clock::now();
  run_writers(path, 4, 200);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));
  auto s = Store::open(path, OpenMode::read_only);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto rows = s->list_measurements();
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 800u);
  std::set<std::string> labels;
  for (const auto& m : *rows) labels.insert(m.label);
  EXPECT_EQ(labels.size(), 800u);
  auto check = s->check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->ok);
}

// The first open of a new file is itself a race (create, WAL, migrate): the losers must wait, not fail.
TEST(Processes, ConcurrentFirstOpenOfANewFile) {
  const std::string path = fresh_path("first_open.db");
  run_writers(path, 4, 20);
  auto s = Store::open(path, OpenMode::read_only);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->list_measurements()->size(), 80u);
  EXPECT_TRUE(s->check()->ok);
}

TEST(Processes, WriterKilledAtRandomPointsLosesOnlyTheWriteInFlight) {
  const std::string path = fresh_path("crash.db");
  std::mt19937 rng(20251124);
  std::set<std::int64_t> committed;  // every id a child reported, over all rounds
  int rounds_with_writes = 0;
  const auto start = Clock::now();
  for (int round = 0; round < 30; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      // The first child creates the file: a kill can land in creation or migration too.
      auto s = Store::open(path);
      if (!s.ok() || !prepare(*s)) ::_exit(1);
      const std::int64_t ready = 0;  // ids start at 1
      if (::write(fds[1], &ready, sizeof ready) != sizeof ready) ::_exit(3);
      for (int i = 0; i < 1000000; ++i) {
        auto put = s->put_measurement(unit_of(fmt::format("r{}.m{}", round, i)), OnConflict::fail);
        if (!put.ok()) ::_exit(2);
        const std::int64_t id = put->id;  // committed: report it (8 bytes: one atomic pipe write)
        if (::write(fds[1], &id, sizeof id) != sizeof id) ::_exit(3);
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    // Even rounds count from the fork (kills in open, creation, migration); odd rounds from "ready",
    // so that most kills land among the writes however slow start-up is (sanitizers, a loaded machine).
    std::int64_t id = -1;
    if (round % 2 == 1 && ::read(fds[0], &id, sizeof id) != sizeof id)
      ADD_FAILURE() << "round " << round << ": no ready";
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 50000)(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "round " << round << " status " << status;
    int reported = 0;
    while (::read(fds[0], &id, sizeof id) == sizeof id) {
      if (id == 0) continue;  // ready
      committed.insert(id);
      ++reported;
    }
    ::close(fds[0]);
    rounds_with_writes += reported > 0;

    if (!std::filesystem::exists(path)) continue;  // killed before SQLite created the file
    auto s = Store::open(path);                    // read-write: recovers the WAL a killed writer left
    ASSERT_TRUE(s.ok()) << "round " << round << ": " << s.error().message;
    auto check = s->check();
    ASSERT_TRUE(check.ok());
    ASSERT_TRUE(check->ok) << "round " << round << ": " << (check->problems.empty() ? "" : check->problems[0]);
    auto rows = s->list_measurements();
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    std::set<std::int64_t> stored;
    for (const auto& m : *rows) stored.insert(m.id);
    for (std::int64_t c : committed)
      ASSERT_TRUE(stored.count(c)) << "round " << round << ": committed row " << c << " lost";
    EXPECT_LE(committed.size(), stored.size());
  }
  EXPECT_GE(rounds_with_writes, 10);  // the kills landed mid-stream, not only before the first write
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace hwnas::store
