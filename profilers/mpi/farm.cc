#include "profilers/mpi/farm.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <mpi.h>
#include <time.h>

namespace hwnas::prof::mpi {
namespace {

// Message tags. A job and its reply start with an 8-byte id: the batch number (high 32 bits) and
// the job's index in it, so a late reply of an abandoned batch is never taken for a new one.
constexpr int kHello = 11, kJob = 12, kReply = 13, kStop = 14;

using Clock = std::chrono::steady_clock;

double process_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Probing without spinning: the pause is a tenth of the time waited so far, from 20 µs to 2 ms, so a
// reply is noticed within ~10% of its wait (fast jobs stay fast) while a long measurement sees at
// most 500 wake-ups a second of a process that may share its core.
class Backoff {
 public:
  void reset() { since_ = Clock::now(); }
  void wait() {
    const double waited_us = seconds_since(since_) * 1e6;
    std::this_thread::sleep_for(
        std::chrono::microseconds(static_cast<long>(std::clamp(0.1 * waited_us, 20.0, 2000.0))));
  }

 private:
  Clock::time_point since_ = Clock::now();
};

std::string receive(const MPI_Status& probed) {
  int n = 0;
  MPI_Get_count(&probed, MPI_CHAR, &n);
  std::string buf(static_cast<std::size_t>(n), '\0');
  MPI_Status st;
  MPI_Recv(buf.data(), n, MPI_CHAR, probed.MPI_SOURCE, probed.MPI_TAG, MPI_COMM_WORLD, &st);
  return buf;
}

void send(int to, int tag, const std::string& bytes) {
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_CHAR, to, tag, MPI_COMM_WORLD);
}

std::string with_id(std::uint64_t id, const std::string& payload) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &id, 8);
  return out + payload;
}

std::uint64_t id_of(const std::string& msg) {
  std::uint64_t id = 0;
  if (msg.size() >= 8) std::memcpy(&id, msg.data(), 8);
  return id;
}

}  // namespace

bool built() {
  return true;
}

std::string library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  MPI_Get_library_version(text, &len);  // callable before MPI_Init
  std::string v(text, static_cast<std::size_t>(std::max(len, 0)));
  if (auto nl = v.find_first_of("\r\n"); nl != std::string::npos) v.resize(nl);
  while (!v.empty() && (v.back() == ',' || v.back() == ' ' || v.back() == '\0')) v.pop_back();
  return v;
}

Result<std::unique_ptr<Session>> Session::start(int* argc, char*** argv) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised) return Error{"MPI is already initialised in this process"};
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    return Error{"MPI_Init_thread failed (run under mpirun or srun)"};
  std::unique_ptr<Session> s(new Session());
  MPI_Comm_rank(MPI_COMM_WORLD, &s->rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &s->size_);
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  s->host_.assign(name, static_cast<std::size_t>(len));
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, s->rank_, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &s->local_rank_);
  MPI_Comm_free(&local);
  return s;
}

Session::~Session() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (!finalised) MPI_Finalize();
}

void Session::abort(int code) const {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();
}

Result<std::unique_ptr<Coordinator>> Coordinator::connect(const Session& session, double hello_timeout_s) {
  if (session.rank() != 0) return Error{fmt::format("rank {} is a worker: only rank 0 coordinates", session.rank())};
  std::unique_ptr<Coordinator> c(new Coordinator(session));
  std::map<int, WorkerInfo> by_rank;
  const auto start = Clock::now();
  Backoff backoff;
  while (static_cast<int>(by_rank.size()) < session.size() - 1) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, kHello, MPI_COMM_WORLD, &flag, &st);
    if (!flag) {
      if (seconds_since(start) > hello_timeout_s) {
        std::string missing;
        for (int r = 1; r < session.size(); ++r)
          if (!by_rank.count(r)) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", r);
        c->stopped_ = true;  // the silent ranks would not hear a stop
        return Error{fmt::format("MPI: no hello from worker rank(s) {} within {:.0f} s", missing, hello_timeout_s)};
      }
      backoff.wait();
      continue;
    }
    backoff.reset();
    const std::string msg = receive(st);
    // route \0 host \0 hello
    const auto a = msg.find('\0'), b = a == std::string::npos ? a : msg.find('\0', a + 1);
    WorkerInfo w;
    w.rank = st.MPI_SOURCE;
    if (b != std::string::npos) {
      w.route = msg.substr(0, a);
      w.host = msg.substr(a + 1, b - a - 1);
      w.hello = msg.substr(b + 1);
    }
    by_rank[w.rank] = std::move(w);
  }
  for (auto& [rank, w] : by_rank) c->workers_.push_back(std::move(w));
  return c;
}

Coordinator::~Coordinator() {
  stop();
}

std::size_t Coordinator::workers_on(const std::string& route) const {
  return static_cast<std::size_t>(
      std::count_if(workers_.begin(), workers_.end(), [&](const WorkerInfo& w) { return w.route == route; }));
}

void Coordinator::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (const WorkerInfo& w : workers_) send(w.rank, kStop, "");
}

Status Coordinator::run(const std::vector<Job>& jobs, const std::function<Status(const Reply&)>& on_reply) {
  const std::uint32_t batch = ++batches_;
  if (stopped_) return Error{"MPI: the workers were already stopped"};
  std::map<std::string, std::deque<std::size_t>> pending;
  for (std::size_t i = 0; i < jobs.size(); ++i) pending[jobs[i].route].push_back(i);
  for (const auto& [route, q] : pending)
    if (workers_on(route) == 0)
      return Error{fmt::format("MPI: no worker measures device {} ({} job(s) for it; {} worker(s) on other devices)",
                               route, q.size(), workers_.size())};

  struct Busy {
    std::size_t job = 0;
    Clock::time_point since;
  };
  std::map<int, Busy> busy;  // by rank
  // Jobs go out without blocking (a job larger than MPI's eager limit would wait for the worker to
  // take it, which it does between naps); each send completes before the worker can reply.
  struct Outgoing {
    MPI_Request request = MPI_REQUEST_NULL;
    std::string bytes;
  };
  std::map<int, Outgoing> sending;  // by rank
  auto finish_send = [&](int rank) {
    auto s_it = sending.find(rank);
    if (s_it == sending.end()) return;
    MPI_Wait(&s_it->second.request, MPI_STATUS_IGNORE);
    sending.erase(s_it);
  };
  const auto start = Clock::now();
  const double cpu_start = process_cpu_ms();
  std::optional<Error> failure;  // from on_reply: nothing more goes out, the outstanding replies drain
  Backoff backoff;
  auto hand_out = [&] {
    for (const WorkerInfo& w : workers_) {
      if (busy.count(w.rank)) continue;
      auto q = pending.find(w.route);
      if (q == pending.end() || q->second.empty()) continue;
      const std::size_t i = q->second.front();
      q->second.pop_front();
      busy[w.rank] = {i, Clock::now()};
      finish_send(w.rank);
      Outgoing& out = sending[w.rank];
      out.bytes = with_id((std::uint64_t{batch} << 32) | i, jobs[i].payload);
      MPI_Isend(out.bytes.data(), static_cast<int>(out.bytes.size()), MPI_CHAR, w.rank, kJob, MPI_COMM_WORLD,
                &out.request);
    }
  };
  auto host_of = [&](int rank) {
    for (const WorkerInfo& w : workers_)
      if (w.rank == rank) return w.host;
    return std::string("?");
  };
  for (;;) {
    if (!failure) hand_out();
    if (busy.empty()) break;
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, kReply, MPI_COMM_WORLD, &flag, &st);
    if (!flag) {
      if (job_timeout_s_ > 0)
        for (const auto& [rank, b] : busy)
          if (seconds_since(b.since) > job_timeout_s_) {
            // The caller ends the MPI job: sends still in flight keep their buffers until then.
            static std::vector<Outgoing> abandoned;
            for (auto& [r, o] : sending) abandoned.push_back(std::move(o));
            return Error{fmt::format("MPI: worker rank {} ({}) did not finish job {} of {} within {:.0f} s", rank,
                                     host_of(rank), b.job + 1, jobs.size(), job_timeout_s_)};
          }
      backoff.wait();
      continue;
    }
    backoff.reset();
    const std::string msg = receive(st);
    auto it = busy.find(st.MPI_SOURCE);
    const std::uint64_t id = id_of(msg);
    if (it == busy.end() || (id >> 32) != batch || (id & 0xffffffffu) != it->second.job) continue;  // stale
    finish_send(st.MPI_SOURCE);  // the worker took its job before answering it
    Reply r;
    r.job = it->second.job;
    r.rank = st.MPI_SOURCE;
    r.host = host_of(r.rank);
    if (msg.size() >= 16) std::memcpy(&r.compute_ms, msg.data() + 8, 8);
    r.payload = msg.substr(std::min<std::size_t>(16, msg.size()));
    r.wall_ms = seconds_since(it->second.since) * 1e3;
    busy.erase(it);
    ++stats_.jobs;
    stats_.busy_ms += r.wall_ms;
    stats_.compute_ms += r.compute_ms;
    if (!failure) {
      hand_out();  // the worker's next job first: storing this reply overlaps with its work
      const auto t0 = Clock::now();
      if (auto done = on_reply(r); !done) failure = done.error();
      stats_.handling_ms += seconds_since(t0) * 1e3;
    }
  }
  for (auto& [rank, out] : sending) MPI_Wait(&out.request, MPI_STATUS_IGNORE);
  const double wall_ms = seconds_since(start) * 1e3;
  stats_.wall_ms += wall_ms;
  stats_.cpu_ms += process_cpu_ms() - cpu_start;
  // Every worker of a route with jobs was there for the whole call.
  for (const auto& [route, q] : pending) stats_.present_ms += static_cast<double>(workers_on(route)) * wall_ms;
  if (failure) return *failure;
  return Ok{};
}

Status serve(const Session& session, const std::string& route, const std::string& hello,
             const std::function<std::string(const std::string& job)>& handle) {
  if (session.rank() == 0) return Error{"rank 0 coordinates: it does not serve jobs"};
  std::string msg = route;
  msg.push_back('\0');
  msg += session.host();
  msg.push_back('\0');
  msg += hello;
  send(0, kHello, msg);
  Backoff backoff;
  for (;;) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (!flag) {
      backoff.wait();
      continue;
    }
    const std::string job = receive(st);
    if (st.MPI_TAG == kStop) return Ok{};
    if (st.MPI_TAG != kJob) continue;
    const auto t0 = Clock::now();
    const std::string reply = handle(job.substr(std::min<std::size_t>(8, job.size())));
    const double compute_ms = seconds_since(t0) * 1e3;
    std::string head(8, '\0');
    std::memcpy(head.data(), &compute_ms, 8);
    send(0, kReply, with_id(id_of(job), head + reply));
    backoff.reset();
  }
}

}  // namespace hwnas::prof::mpi
