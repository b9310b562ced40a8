// Bad input never crashes and never overwrites the user's file: a text file, random bytes, a fake
// header, a truncated or corrupt database, another program's database, a directory, unwritable
// files and directories. Each is a clear Error (or, for damage inside, a failed check()).
#include <filesystem>
#include <functional>
#include <random>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/sqlite.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace hwnas::store {
namespace {

using namespace testutil;
namespace fs = std::filesystem;

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

bool has_sidecars(const std::string& path) {
  return fs::exists(path + "-wal") || fs::exists(path + "-shm") || fs::exists(path + "-journal");
}

// Opens `path` both ways; both must fail with `expected` (the message after "<path>: ") and leave
// the file byte-identical, with no -wal/-shm beside it.
void expect_refused(const std::string& path, const std::string& expected) {
  const std::string before = read_bytes(path);
  for (OpenMode mode : {OpenMode::read_write, OpenMode::read_only}) {
    auto s = Store::open(path, mode);
    ASSERT_FALSE(s.ok()) << "opened " << path;
    EXPECT_EQ(s.error().message, path + ": " + expected);
  }
  Store other = [] {
    auto s = Store::open(":memory:");
    EXPECT_TRUE(s.ok());
    return std::move(*s);
  }();
  auto imported = other.import_from(path);
  EXPECT_FALSE(imported.ok());
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_FALSE(has_sidecars(path));
}

// A real store file with enough rows to span many pages, checkpointed (no -wal left).
std::string make_store(const std::string& name, int measurements = 300) {
  const std::string path = fresh_path(name);
  auto s = Store::open(path);
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(s->put_device(device("dev-a")).ok());
  std::vector<MeasurementRecord> ms;
  for (int i = 0; i < measurements; ++i) {
    EXPECT_TRUE(s->put_arch(arch(i)).ok());
    ms.push_back(network(i, "dev-a"));
    ms.back().figures.samples_us.assign(50, 1.0 + i);
  }
  EXPECT_TRUE(s->put_measurements(ms).ok());
  return path;
}

TEST(BadInput, TextFile) {
  const std::string path = fresh_path("notes.txt");
  write_bytes(path, "measurements, to do:\n - deit-tiny\n");
  expect_refused(path, "cannot open: file is not a database");
}

TEST(BadInput, RandomBytes) {
  const std::string path = fresh_path("random.db");
  write_bytes(path, random_bytes(8192, 1));
  expect_refused(path, "cannot open: file is not a database");
}

TEST(BadInput, ShortFile) {
  const std::string path = fresh_path("short.db");
  write_bytes(path, std::string("SQLite format 3\0", 16));
  expect_refused(path, "cannot open: file is not a database");
}

TEST(BadInput, SqliteHeaderOverGarbage) {
  // A valid-looking header (page size 4096, counters consistent, 2 pages) on random pages.
  std::string bytes = random_bytes(8192, 2);
  const std::string header = make_store("for_header.db", 1).substr(0, 100);
  bytes.replace(0, 100, header);
  bytes[28] = 0, bytes[29] = 0, bytes[30] = 0, bytes[31] = 2;
  const std::string path = fresh_path("garbage.db");
  write_bytes(path, bytes);
  const std::string before = read_bytes(path);
  for (OpenMode mode : {OpenMode::read_write, OpenMode::read_only}) {
    auto s = Store::open(path, mode);
    ASSERT_FALSE(s.ok());
    // SQLite's own verdict, with the file and the operation.
    EXPECT_TRUE(s.error().message == path + ": cannot open: file is not a database" ||
                s.error().message == path + ": cannot open: database disk image is malformed")
        << s.error().message;
  }
  EXPECT_EQ(read_bytes(path), before);
}

TEST(BadInput, TruncatedDatabase) {
  const std::string good = make_store("whole.db");
  const std::string bytes = read_bytes(good);
  ASSERT_GT(bytes.size(), 20u * 4096);
  const std::string half = fresh_path("half.db");
  write_bytes(half, bytes.substr(0, bytes.size() / 2));
  expect_refused(half, fmt::format("cannot open: file is truncated ({} bytes; its header says {})", bytes.size() / 2,
                                   bytes.size()));
  const std::string stub = fresh_path("stub.db");
  write_bytes(stub, bytes.substr(0, 50));
  expect_refused(stub, "cannot open: file is not a database");
}

TEST(BadInput, CorruptPagesAreFoundByCheck) {
  const std::string good = make_store("good.db");
  std::string bytes = read_bytes(good);
  // Overwrite pages in the middle (the first page, the schema, stays intact).
  for (std::size_t i = bytes.size() / 3; i < bytes.size() / 3 + std::size_t{3 * 4096}; ++i) bytes[i] = '\x55';
  const std::string path = fresh_path("corrupt.db");
  write_bytes(path, bytes);
  const std::string before = read_bytes(path);
  {
    auto s = Store::open(path, OpenMode::read_only);
    ASSERT_TRUE(s.ok()) << s.error().message;  // the damage is inside: opening cannot see it
    auto report = s->check();
    ASSERT_TRUE(report.ok());
    EXPECT_FALSE(report->ok);
    ASSERT_FALSE(report->problems.empty());
    EXPECT_EQ(report->problems[0].rfind(path + ": ", 0), 0u) << report->problems[0];
    // Reading the damaged rows is an Error, not a crash.
    auto rows = s->list_measurements();
    if (!rows.ok()) {
      EXPECT_NE(rows.error().message.find(path + ": cannot list measurements: "), std::string::npos);
    }
  }
  // The file is untouched (a read-only connection to a WAL database may leave its -shm beside it).
  EXPECT_EQ(read_bytes(path), before);
}

TEST(BadInput, AnotherProgramsDatabase) {
  const std::string path = fresh_path("other_app.db");
  {
    auto c = sql::Connection::open(path, sql::Access::read_write_create, 1000, path);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->exec("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('Ada')", "setup").ok());
  }
  expect_refused(path, "not an hwnas database (it has tables but no schema_version)");
  const std::string tagged = fresh_path("tagged.db");
  {
    auto c = sql::Connection::open(tagged, sql::Access::read_write_create, 1000, tagged);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->exec("PRAGMA application_id = 1; CREATE TABLE schema_version (version INTEGER)", "setup").ok());
  }
  expect_refused(tagged, "not an hwnas database (application_id 0x1)");
}

TEST(BadInput, DirectoryAndMissingFile) {
  const std::string dir = fresh_path("a_dir");
  fs::create_directory(dir);
  for (OpenMode mode : {OpenMode::read_write, OpenMode::read_only}) {
    auto s = Store::open(dir, mode);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().message, dir + ": cannot open: is a directory");
  }
  const std::string missing = fresh_path("missing.db");
  auto s = Store::open(missing, OpenMode::read_only);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, missing + ": cannot open: no such file");
  EXPECT_FALSE(fs::exists(missing));
  const std::string nowhere = fresh_path("no_such_dir") + "/hwnas.db";
  s = Store::open(nowhere);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            fmt::format("{}: cannot create: no directory '{}'", nowhere, fs::path(nowhere).parent_path().string()));
  EXPECT_FALSE(Store::open("").ok());
}

// Runs `body` in a child process as an unprivileged user (root ignores file permissions) and
// returns what it returns.
std::string as_unprivileged_user(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      out = "cannot drop privileges";
    } else {
      out = body();
    }
    const char* p = out.data();
    std::size_t left = out.size();
    while (left > 0) {
      const ssize_t n = ::write(fds[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

std::string open_message(const std::string& path, OpenMode mode) {
  auto s = Store::open(path, mode);
  if (!s.ok()) return s.error().message;
  auto stats = s->stats();
  return stats.ok() ? fmt::format("ok: {} measurements", stats->tables[2].rows) : stats.error().message;
}

TEST(BadInput, ReadOnlyDirectoryAndFile) {
  // A directory nobody may write to, holding a store that everybody may write to.
  const std::string dir = fresh_path("ro_dir");
  fs::create_directory(dir);
  ::chmod(dir.c_str(), 0777);
  const std::string inside = dir + "/hwnas.db";
  {
    const std::string src = make_store("to_copy.db", 3);
    fs::copy_file(src, inside);
    ::chmod(inside.c_str(), 0666);
  }
  ::chmod(dir.c_str(), 0555);
  const std::string before = read_bytes(inside);

  const std::string fresh = dir + "/new.db";
  EXPECT_EQ(as_unprivileged_user([&] { return open_message(fresh, OpenMode::read_write); }),
            fmt::format("{}: cannot create: directory '{}' is not writable", fresh, dir));
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_EQ(as_unprivileged_user([&] { return open_message(inside, OpenMode::read_write); }),
            fmt::format("{}: cannot open for writing: directory '{}' is not writable (SQLite keeps its -wal and -shm "
                        "files beside the database; open it read-only to query it)",
                        inside, dir));
  EXPECT_EQ(as_unprivileged_user([&] { return open_message(inside, OpenMode::read_only); }), "ok: 3 measurements");
  EXPECT_EQ(read_bytes(inside), before);
  EXPECT_FALSE(has_sidecars(inside));

  // A write-protected file in a writable directory.
  const std::string rw_dir = fresh_path("rw_dir");
  fs::create_directory(rw_dir);
  ::chmod(rw_dir.c_str(), 0777);
  const std::string ro_file = rw_dir + "/hwnas.db";
  fs::copy_file(inside, ro_file);
  ::chmod(ro_file.c_str(), 0444);
  EXPECT_EQ(as_unprivileged_user([&] { return open_message(ro_file, OpenMode::read_write); }),
            ro_file + ": cannot open for writing: the file is read-only (open it read-only to query it)");
  EXPECT_EQ(as_unprivileged_user([&] { return open_message(ro_file, OpenMode::read_only); }), "ok: 3 measurements");
  EXPECT_EQ(read_bytes(ro_file), before);
  ::chmod(dir.c_str(), 0755);
}

}  // namespace
}  // namespace hwnas::store
