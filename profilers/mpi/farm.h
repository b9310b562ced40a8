// A measurement farm over MPI (DESIGN.md, "Scaling past one machine"): `mpirun -n K hwnas … --mpi`
// starts K copies of the command; rank 0 is the coordinator (it runs the command, owns the store and
// decides what to measure), every other rank is a worker that measures on its own device. Jobs and
// replies are opaque text (the CLI puts JSON in them): the timing loop runs on the worker, next to
// its device, so a job is a whole measurement, never a single pass (a remote Runnable would time the
// wire).
//
// Work is handed out dynamically: a worker gets its next job when it sends a reply, so fast and slow
// devices both stay busy. Jobs name a route (the device fingerprint they must be measured on); a
// worker takes only jobs of its own route. Waiting never spins a core: OpenMPI's blocking receive
// busy-polls, so both sides probe and sleep, a tenth of the time waited so far (20 µs to 2 ms).
//
// Faults: a job that runs past the per-job timeout is an error naming the rank, host and job (the
// caller then aborts the MPI job); a worker that dies ends the job under OpenMPI (mpirun reports
// the rank and signal). Replies are handed to the caller as they arrive, so everything done before
// a fault is already committed.
//
// Built without MPI (no libopenmpi-dev at configure time), Session::start says so and nothing else
// here is reachable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "space/result.h"

namespace hwnas::prof::mpi {

struct Ok {};
using Status = Result<Ok>;

// Whether this build has MPI.
bool built();
// The MPI library's own version line (MPI_Get_library_version), or why there is none.
std::string library_version();

// This process's part of an MPI job: MPI_Init_thread (FUNNELED: oneDNN's OpenMP threads never call
// MPI) on start, MPI_Finalize when destroyed.
class Session {
 public:
  static Result<std::unique_ptr<Session>> start(int* argc, char*** argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // The rank among those on the same host (MPI_COMM_TYPE_SHARED): which GPU a rank takes.
  int local_rank() const { return local_rank_; }
  const std::string& host() const { return host_; }
  // Ends every rank of the job (MPI_Abort): after a fault the coordinator cannot go on alone.
  [[noreturn]] void abort(int code) const;

 private:
  Session() = default;
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  std::string host_;
};

struct WorkerInfo {
  int rank = 0;
  std::string host;
  std::string route;  // the device fingerprint it measures
  std::string hello;  // what the worker said about itself (the CLI's JSON: device record, backend)
};

struct Job {
  std::string route;  // only workers of this route take it
  std::string payload;
};

struct Reply {
  std::size_t job = 0;  // index into the batch given to run()
  int rank = 0;
  std::string host;
  std::string payload;
  double wall_ms = 0;     // from handing the job out to its reply arriving
  double compute_ms = 0;  // of which the worker spent in the job's handler
};

struct FarmStats {
  std::size_t jobs = 0;
  double busy_ms = 0;      // summed over workers: job handed out → reply
  double compute_ms = 0;   // summed over workers: in the handler (busy_ms - compute_ms: the wire and the waits)
  double wall_ms = 0;      // summed over run() calls
  double present_ms = 0;   // summed over the workers of the routes run() served, for as long as it ran
  double handling_ms = 0;  // the coordinator's time in on_reply (storing what came back)
  double cpu_ms = 0;       // CPU time of the coordinator's process (all its threads) during run()
  // Per job: from handing it out to noticing its reply, less the worker's work: the wire both ways
  // and the coordinator's delays (a worker's next job goes out before its reply is stored, so storing
  // delays only the replies that arrive meanwhile). What a worker waits for per job when there is
  // more work.
  double overhead_ms_per_job() const { return jobs == 0 ? 0 : (busy_ms - compute_ms) / static_cast<double>(jobs); }
};

// Rank 0's side.
class Coordinator {
 public:
  // Waits for every worker's hello (at most `hello_timeout_s`).
  static Result<std::unique_ptr<Coordinator>> connect(const Session& session, double hello_timeout_s = 120);
  ~Coordinator();  // stops the workers

  const std::vector<WorkerInfo>& workers() const { return workers_; }
  std::size_t workers_on(const std::string& route) const;
  // Seconds a job may take before it is a fault (0: no limit).
  void set_job_timeout_s(double s) { job_timeout_s_ = s; }

  // Runs the batch: each job goes to the next free worker of its route; `on_reply` sees every reply
  // as it arrives (an error from it stops the batch). An error also when a route has no worker or a
  // job times out. Replies carry the job's index, so the caller can keep the batch's order.
  Status run(const std::vector<Job>& jobs, const std::function<Status(const Reply&)>& on_reply);
  // Tells every worker to exit (idempotent; also done by the destructor).
  void stop();
  const FarmStats& stats() const { return stats_; }

 private:
  explicit Coordinator(const Session& s) : session_(s) {}
  const Session& session_;
  std::vector<WorkerInfo> workers_;
  double job_timeout_s_ = 0;
  bool stopped_ = false;
  std::uint32_t batches_ = 0;  // run() calls: the high half of a job's id
  FarmStats stats_;
};

// A worker's side: says hello (its route and description), then answers each job with `handle`
// until rank 0 says stop. A job `handle` cannot do should come back as an error reply of the
// caller's format; the loop itself never fails a job.
Status serve(const Session& session, const std::string& route, const std::string& hello,
             const std::function<std::string(const std::string& job)>& handle);

}  // namespace hwnas::prof::mpi
