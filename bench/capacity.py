#!/usr/bin/env python3
"""One coordinator against many simulated workers: what it serves, and what limits it.

bench/capacity.sh starts a private PostgreSQL and runs this with its address; see
`bench/capacity.sh --help` for the options. Python 3 standard library only.

Two coordinator runs over the same files, each in a fresh schema:
  1. `loadstar generate` writes FILES tiny song files (one song each) under the work directory.
  2. staged: `loadstar coordinator` plans them into FILES / TASK_FILES tasks and listens on a
     loopback address in plaintext (--insecure-plaintext). PROCS processes of
     build/bench/loadstar_capacity_sim connect WORKERS simulated workers between them. Each says
     READY with credit 0 first: registered and heartbeating, leased nothing. Once every worker has
     connected (SETTLE_S), the heartbeat window (IDLE_S) measures the coordinator's CPU while the
     idle workers heartbeat, and the simulators count the messages. Then every worker says READY
     again with CREDIT, and the simulators stage every task they are leased for real (the
     worker's stager, a few warehouse connections per process); the coordinator checks every
     report against the ledger before the task counts.
  3. pre-staged: a new coordinator run; the simulator stages every file for it first, then the
     workers connect and answer each task at once with the accounts the ledger holds, so what is
     measured is the coordinator alone.
In both, the dispatch rate is tasks / (the moment the coordinator logs "every task is staged" -
the READY with credit). Meanwhile perf samples the coordinator (if perf is there), its loop
thread's time on and waiting for a CPU comes from schedstat, and the thread's state is sampled
from /proc 100 times a second (in PostgreSQL: libpq's poll with no timeout; waiting for messages:
ZeroMQ's poll with one); pg_stat_statements and auto_explain (when bench/capacity.sh could load
them) say what PostgreSQL spent its time on. After each run the ledger must hold every file as
loaded and the songs table one row per file, and every simulated worker must have been told the
run is over.

It writes RESULTS (markdown) and RESULTS with .json (every figure). Exit code 0 when the run
checked out, 1 otherwise (the markdown is still written when the figures exist).
"""

import argparse
import datetime
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (CLK_TCK, git_head, ident, machine_busy, proc_hwm_kb, proc_stat, read_text,  # noqa: E402
                     tree_cpu)

LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z (\w+) ([^:]+): (.*)$")
PLAN_LINE = re.compile(r"(\d+) to stage in (\d+) tasks")
SYSCALL_POLL, SYSCALL_PPOLL = 7, 271  # x86_64
INFINITE = {"0xffffffff", "0xffffffffffffffff"}


class RunError(Exception):
    """The run could not produce its figures; the message says why and where to look."""


def note(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def now_ms():
    return int(time.time() * 1000)


def sleep_until(ms):
    delay = ms / 1000 - time.time()
    if delay > 0:
        time.sleep(delay)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def log_time(line):
    """Seconds since the epoch of a loadstar log line, or None."""
    m = LOG_LINE.match(line)
    if not m:
        return None
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return t.timestamp()


def thread_cpu(pid):
    """{thread group: CPU seconds} of a live process: its loop thread (the main thread), ZeroMQ's
    I/O thread, and the rest."""
    out = {"loop": 0.0, "zmq_io": 0.0, "other": 0.0}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        text = read_text(f"/proc/{pid}/task/{tid}/stat")
        if text is None:
            continue
        comm = text[text.find("(") + 1:text.rfind(")")]
        fields = text[text.rfind(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        group = "loop" if tid == str(pid) else "zmq_io" if comm.startswith("ZMQbg/IO") else "other"
        out[group] += cpu
    return out


def loop_schedstat(pid):
    """(seconds on a CPU, seconds waiting for one) of the coordinator's loop (main) thread."""
    text = read_text(f"/proc/{pid}/task/{pid}/schedstat")
    if not text:
        return (0.0, 0.0)
    fields = text.split()
    return (int(fields[0]) / 1e9, int(fields[1]) / 1e9)


class Sampler(threading.Thread):
    """Every 100 ms: the coordinator's CPU and memory, PostgreSQL's CPU, the simulators' CPU and
    the machine's; kept as a time series."""

    def __init__(self, coordinator_pid, pg_pid, sim_pids):
        super().__init__(daemon=True)
        self.coordinator_pid, self.pg_pid, self.sim_pids = coordinator_pid, pg_pid, sim_pids
        self.series = []  # (time, coordinator cpu, coordinator hwm kb, coordinator rss kb, pg cpu, sims cpu, machine)
        self.hwm_kb = 0
        self._stop_event = threading.Event()

    def sample(self):
        st = proc_stat(self.coordinator_pid)
        hwm = proc_hwm_kb(self.coordinator_pid)
        rss = 0
        text = read_text(f"/proc/{self.coordinator_pid}/status")
        for line in (text or "").splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
        if hwm:
            self.hwm_kb = max(self.hwm_kb, hwm)
        sims = sum((proc_stat(p) or (0.0, 0.0))[0] for p in self.sim_pids)
        self.series.append((time.time(), st[0] if st else None, hwm, rss, tree_cpu(self.pg_pid), sims, machine_busy()))

    def run(self):
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(0.1)

    def stop(self):
        self._stop_event.set()
        self.join()

    def at(self, t):
        """The last sample taken at or before t (the first one if none)."""
        best = self.series[0]
        for s in self.series:
            if s[0] <= t:
                best = s
        return best

    def delta(self, t0, t1, column):
        a, b = self.at(t0), self.at(t1)
        if a[column] is None or b[column] is None:
            return None
        return b[column] - a[column]


class LoopStates(threading.Thread):
    """Samples what the coordinator's loop thread is doing, from /proc/PID/task/PID/syscall."""

    def __init__(self, pid, hz=100):
        super().__init__(daemon=True)
        self.pid, self.period = pid, 1.0 / hz
        self.counts = {}
        self._stop_event = threading.Event()

    def classify(self, text):
        if text is None:
            return None
        parts = text.split()
        if not parts:
            return None
        if parts[0] == "running":
            return "running or runnable"
        nr = int(parts[0])
        if nr == -1:
            return "in the kernel outside a system call"
        if nr == SYSCALL_POLL and len(parts) > 3:
            return "in PostgreSQL (libpq poll)" if parts[3] in INFINITE else "waiting for messages (ZeroMQ poll)"
        if nr == SYSCALL_PPOLL and len(parts) > 3:
            return "in PostgreSQL (libpq poll)" if parts[3] == "0x0" else "waiting for messages (ZeroMQ poll)"
        return f"other system call ({nr})"

    def run(self):
        path = f"/proc/{self.pid}/task/{self.pid}/syscall"
        while not self._stop_event.is_set():
            state = self.classify(read_text(path))
            if state:
                self.counts[state] = self.counts.get(state, 0) + 1
            self._stop_event.wait(self.period)

    def stop(self):
        self._stop_event.set()
        self.join()


class Capacity:
    def __init__(self, args):
        self.args = args
        self.work = args.work
        self.logs = os.path.join(self.work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.loadstar = os.path.join(args.build, "loadstar")
        self.sim = os.path.join(args.build, "bench", "loadstar_capacity_sim")
        for path in (self.loadstar, self.sim):
            if not os.access(path, os.X_OK):
                raise RunError(f"{path} is missing: build it first (cmake --build build --target loadstar "
                               "loadstar_capacity_sim)")
        self.env = dict(os.environ, LOADSTAR_WAREHOUSE=args.pg_uri)
        self.children = []  # every process started, to stop on the way out
        self.names = {}     # pid -> the name its logs go by
        self.schema = "capacity"
        self.figures = {}
        self.failures = []

    # -- processes ---------------------------------------------------------------------------

    def start(self, name, argv, nofile=False):
        out = open(os.path.join(self.logs, f"{name}.out"), "wb")
        err = open(os.path.join(self.logs, f"{name}.log"), "wb")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=self.env,
                                start_new_session=True, preexec_fn=raise_nofile if nofile else None)
        out.close()
        err.close()
        self.children.append(proc)
        self.names[proc.pid] = name
        return proc

    def stop_all(self):
        for proc in self.children:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 5
        for proc in self.children:
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)

    def log_path(self, name):
        return os.path.join(self.logs, f"{name}.log")

    def wait_for_line(self, name, proc, pattern, deadline, workers=()):
        """The first line of NAME's log that contains `pattern`, waiting until `deadline` (or until
        every one of `workers` has exited)."""
        path = self.log_path(name)
        while time.time() < deadline:
            text = read_text(path) or ""
            for line in text.splitlines():
                if pattern in line:
                    return line
            if proc.poll() is not None:
                raise RunError(f"{name} exited with code {proc.returncode} before logging '{pattern}' "
                               f"(see {path}):\n" + "\n".join(text.strip().splitlines()[-5:]))
            if workers and all(w.poll() is not None for w in workers):
                if pattern in (read_text(path) or ""):
                    continue  # written just now
                time.sleep(0.5)  # the line may be on its way: the workers are told before it is logged
                if pattern in (read_text(path) or ""):
                    continue
                said = {}
                for w in workers:
                    try:
                        out = read_text(os.path.join(self.logs, f"{self.names[w.pid]}.out")) or ""
                        said.update(json.loads(out.strip().splitlines()[-1])["errors"])
                    except (ValueError, IndexError, KeyError):
                        pass
                raise RunError(f"every simulator exited before {name} logged '{pattern}'; they said "
                               f"{json.dumps(said)[:600]} (see the sim-*.log files and {path})")
            time.sleep(0.05)
        raise RunError(f"{name} did not log '{pattern}' in time (see {path})")

    def status(self, port):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as r:
                return json.loads(r.read().decode())
        except (OSError, ValueError):
            return None

    def psql(self, sql_name, values, separator="|"):
        with open(os.path.join(self.args.root, "sql", sql_name + ".sql"), encoding="utf-8") as f:
            text = f.read()
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        res = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", separator, "-v", "ON_ERROR_STOP=1", "-d",
                              self.args.pg_uri, "-c", text], capture_output=True, text=True, timeout=60)
        if res.returncode != 0:
            raise RunError(f"psql {sql_name} failed: {res.stderr.strip()[-500:]}")
        return res.stdout

    def slow_plans(self, start, end):
        """What auto_explain logged between two offsets of PostgreSQL's log: for each of the stager's
        ledger joins, how many sampled slow runs there were and how many read all of load_files."""
        kinds = {"task_files_select": "JOIN task_files t USING (uri)", "task_files_record": "FROM task_accounts a"}
        found = {k: {"sampled": 0, "seq_scan": 0, "ms": 0.0} for k in kinds}
        try:
            with open(self.args.pg_log, "rb") as f:
                f.seek(start)
                text = f.read(max(0, end - start)).decode("utf-8", "replace")
        except OSError:
            return None
        for entry in re.split(r"\n(?=\S)", text):
            m = re.search(r"LOG:  duration: ([\d.]+) ms  plan:", entry)
            if not m:
                continue
            for kind, marker in kinds.items():
                if marker in entry:
                    found[kind]["sampled"] += 1
                    found[kind]["ms"] += float(m.group(1))
                    found[kind]["seq_scan"] += "Seq Scan on load_files" in entry
        return found

    def statements(self):
        """PostgreSQL's busiest statements since the last reset: [(calls, total ms, mean ms, text)]."""
        rows = []
        for row in self.psql("bench/capacity_statements", {}, separator="\x1f").splitlines():
            parts = row.split("\x1f")
            if len(parts) == 4:
                rows.append((int(parts[0]), float(parts[1]), float(parts[2]), parts[3]))
        return rows

    # -- the runs -----------------------------------------------------------------------------

    def run(self):
        a = self.args
        note(f"generating {a.files:,} song files")
        self.data = os.path.join(self.work, "data")
        gen = subprocess.run([self.loadstar, "generate", "--to", f"file://{self.data}/", "--songs", str(a.files),
                              "--events", "0", "--days", "1", "--seed", "7"], capture_output=True, text=True,
                             timeout=300)
        if gen.returncode != 0 or f"song files: {a.files}" not in gen.stdout:
            raise RunError(f"loadstar generate failed: {gen.stderr.strip()[-500:]}")
        note("run 1 of 2: every task staged by the workers, after a heartbeat window")
        self.figures["staged"] = self.serve("staged", "capacity", a.idle_s, prestaged=False)
        note("run 2 of 2: every file pre-staged, the workers answer at once (the coordinator's own ceiling)")
        self.figures["prestaged"] = self.serve("prestaged", "capacity_prestaged", 0, prestaged=True)

    def serve(self, label, schema, idle_s, prestaged):
        """One coordinator run in `schema` with every simulated worker; its figures."""
        a = self.args
        fig = {"label": label, "schema": schema, "load_average": os.getloadavg()}
        self.figures[label] = fig  # filled in as the run goes, so a failed run still shows what it got
        pg_pid_text = read_text(os.path.join(a.pg_dir, "data", "postmaster.pid"))
        pg_pid = int(pg_pid_text.splitlines()[0]) if pg_pid_text else None
        name = f"coordinator-{label}"
        port, metrics_port = free_port(), free_port()
        t_coordinator = time.time()
        coordinator = self.start(name, [
            self.loadstar, "coordinator", "--listen", f"tcp://127.0.0.1:{port}", "--insecure-plaintext",
            "--songs", f"file://{self.data}/song_data/", "--warehouse", a.pg_uri, "--schema", schema,
            "--task-files", str(a.task_files), "--metrics-listen", f"127.0.0.1:{metrics_port}"], nofile=True)
        line = self.wait_for_line(name, coordinator, "listening for workers on", time.time() + a.timeout)
        log = read_text(self.log_path(name)) or ""
        plan = PLAN_LINE.search(log)
        run_id = re.search(r"starting run (\d+) into schema", log)
        if not plan or not run_id:
            raise RunError(f"the coordinator did not log its run and plan (see {self.log_path(name)})")
        files, tasks = int(plan.group(1)), int(plan.group(2))
        fig.update(files=files, tasks=tasks, planning_s=(log_time(line) or time.time()) - t_coordinator)
        if files != a.files:
            raise RunError(f"the coordinator planned {files} files, not the {a.files} generated")
        fig["rss_planned_mb"] = self.rss_kb(coordinator.pid) / 1024

        accounts = None
        if prestaged:
            accounts = os.path.join(self.work, f"accounts-{label}.tsv")
            t = time.time()
            res = subprocess.run([self.sim, "--prestage", run_id.group(1), "--songs", f"file://{self.data}/song_data/",
                                  "--warehouse", a.pg_uri, "--schema", schema, "--accounts", accounts,
                                  "--stagers", str(max(2, a.stagers))], capture_output=True, text=True,
                                 timeout=a.timeout, env=self.env)
            if res.returncode != 0:
                raise RunError(f"pre-staging failed: {res.stderr.strip()[-500:]}")
            fig["prestage_s"] = time.time() - t

        t0 = now_ms()
        window_from = t0 + int(a.settle_s * 1000)
        go_at = window_from + int(idle_s * 1000)
        deadline = go_at + int(a.dispatch_timeout_s * 1000)
        note(f"{a.workers:,} simulated workers in {a.procs} processes" +
             (f"; heartbeat window {idle_s:g} s" if idle_s else "") + f"; {tasks:,} tasks")
        sims = []
        per, extra = divmod(a.workers, a.procs)
        for i in range(a.procs):
            n = per + (1 if i < extra else 0)
            argv = [self.sim, "--connect", f"tcp://127.0.0.1:{port}", "--warehouse", a.pg_uri, "--sockets", str(n),
                    "--process", str(i), "--credit", str(a.credit), "--stagers", str(a.stagers),
                    "--window-from", str(window_from), "--go-at", str(go_at), "--deadline-at", str(deadline)]
            if accounts:
                argv += ["--accounts", accounts]
            sims.append(self.start(f"sim-{label}-{i}", argv))
        sampler = Sampler(coordinator.pid, pg_pid, [p.pid for p in sims])
        sampler.start()

        # Every worker registered before anything is measured.
        sleep_until(window_from - 500)
        board = self.status(metrics_port) or {}
        fig["registered"] = len(board.get("workers", []))
        fig["rss_registered_mb"] = self.rss_kb(coordinator.pid) / 1024
        if fig["registered"] != a.workers:
            self.failures.append(f"{label}: the coordinator had {fig['registered']} workers registered, not "
                                 f"{a.workers}, {a.settle_s:g} s after they were started")
        if idle_s:
            # The heartbeat window: every worker registered with credit 0, tasks pending.
            sleep_until(window_from)
            threads_from = thread_cpu(coordinator.pid)
            sleep_until(go_at - 100)
            threads_to = thread_cpu(coordinator.pid)
            w0, w1 = window_from / 1000, go_at / 1000 - 0.1
            fig["idle"] = {
                "coordinator_cpu_s": threads_to and sum(threads_to.values()) - sum(threads_from.values()),
                "postgres_cpu_s": sampler.delta(w0, w1, 4), "sims_cpu_s": sampler.delta(w0, w1, 5),
                "machine_cpu_s": sampler.delta(w0, w1, 6), "seconds": w1 - w0,
                "threads_s": {k: threads_to[k] - threads_from[k] for k in threads_to}}

        # Dispatch: from the READY with credit to "every task is staged".
        if a.statements:
            sleep_until(go_at - 200)
            self.psql("bench/capacity_statements_reset", {})
            log_from = os.path.getsize(a.pg_log) if os.path.exists(a.pg_log) else 0
        sleep_until(go_at)
        threads_go = thread_cpu(coordinator.pid)
        sched_go = loop_schedstat(coordinator.pid)
        loop = LoopStates(coordinator.pid)
        loop.start()
        perf = None
        perf_data = os.path.join(self.work, f"perf-{label}.data")
        if a.perf and shutil.which("perf"):
            with open(self.log_path(f"perf-{label}"), "wb") as err:
                perf = subprocess.Popen(["perf", "record", "-q", "-F", "499", "-p", str(coordinator.pid), "-o",
                                         perf_data], stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
            self.children.append(perf)
        try:
            staged_line = self.wait_for_line(name, coordinator, "every task is staged", deadline / 1000, sims)
        finally:
            t_seen = time.time()
            threads_staged = thread_cpu(coordinator.pid)
            sched_staged = loop_schedstat(coordinator.pid)
            loop.stop()
            if perf is not None and perf.poll() is None:
                os.killpg(perf.pid, signal.SIGINT)
                try:
                    perf.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
        t_staged = log_time(staged_line) or t_seen
        if a.statements:
            fig["statements"] = self.statements()  # before the transform's statements come in
            if os.path.exists(a.pg_log):
                fig["slow_plans"] = self.slow_plans(log_from, os.path.getsize(a.pg_log))
        final_board = None
        while coordinator.poll() is None and time.time() < t_staged + a.timeout:
            board = self.status(metrics_port)
            if board and str(board.get("phase", "")).lower() in ("transforming", "done"):
                final_board = board
            time.sleep(0.2)
        if coordinator.poll() is None:
            raise RunError(f"{label}: the coordinator did not finish its transform in time (see "
                           f"{self.log_path(name)})")
        sampler.stop()
        fig["transform_s"] = time.time() - t_staged
        rcs = []
        for proc in sims:
            try:
                rcs.append(proc.wait(timeout=max(1, deadline / 1000 + 20 - time.time())))
            except subprocess.TimeoutExpired:
                rcs.append(None)
        fig["coordinator_rc"] = coordinator.returncode
        if coordinator.returncode != 0:
            self.failures.append(f"{label}: the coordinator exited with code {coordinator.returncode} (see "
                                 f"{self.log_path(name)})")

        # What the simulators saw.
        sim_stats = []
        for i, rc in enumerate(rcs):
            text = read_text(os.path.join(self.logs, f"sim-{label}-{i}.out")) or ""
            try:
                sim_stats.append(json.loads(text.strip().splitlines()[-1]))
            except (ValueError, IndexError):
                self.failures.append(f"{label}: simulator {i} wrote no figures (exit code {rc}; see "
                                     f"{self.log_path(f'sim-{label}-{i}')})")
                continue
            if rc != 0:
                st = sim_stats[-1]
                self.failures.append(f"{label}: simulator {i} exited with code {rc}: {st['shut_down']} of "
                                     f"{st['sockets']} workers told the run is over, errors {st['errors']}")
        total = {k: sum(st[k] for st in sim_stats) for k in (
            "sockets", "sent", "received", "heartbeats_sent", "heartbeats_received", "window_sent",
            "window_received", "tasks", "results_ok", "results_failed", "results_dropped", "reannounces",
            "silences", "staged_tasks", "staged_files", "stage_failures", "stage_busy_s", "shut_down", "refused")}
        dispatch_s = t_staged - go_at / 1000
        fig.update(
            sims=total, dispatch_s=dispatch_s,
            tasks_per_s=tasks / dispatch_s if dispatch_s > 0 else 0,
            files_per_s=files / dispatch_s if dispatch_s > 0 else 0,
            peak_rss_mb=sampler.hwm_kb / 1024,
            final_status={k: final_board.get(k) for k in ("tasks_done", "tasks_total", "tasks_retried",
                                                           "workers_lost", "files_done")} if final_board else {})
        if idle_s:
            window_s = (go_at - window_from) / 1000
            fig["heartbeats_in_per_s"] = total["window_sent"] / window_s
            fig["heartbeats_out_per_s"] = total["window_received"] / window_s
        d0, d1 = go_at / 1000, t_staged
        fig["dispatch"] = {
            "coordinator_cpu_s": sum(threads_staged.values()) - sum(threads_go.values()),
            "postgres_cpu_s": sampler.delta(d0, d1, 4), "sims_cpu_s": sampler.delta(d0, d1, 5),
            "machine_cpu_s": sampler.delta(d0, d1, 6), "seconds": d1 - d0,
            "threads_s": {k: threads_staged[k] - threads_go[k] for k in threads_go},
            "loop_on_cpu_s": sched_staged[0] - sched_go[0], "loop_runqueue_s": sched_staged[1] - sched_go[1]}
        samples = sum(loop.counts.values()) or 1
        fig["loop_samples"] = samples
        fig["loop_states"] = {k: v / samples for k, v in sorted(loop.counts.items(), key=lambda kv: -kv[1])}
        fig["perf"] = self.perf_top(perf_data) if perf is not None else None

        # The ledger and the star, read from the warehouse itself.
        counts = {}
        for row in self.psql("bench/capacity_ledger", {"schema": ident(schema)}).splitlines():
            what, _, n = row.partition("|")
            if n:
                counts[what] = int(n)
        fig["ledger"] = counts
        if counts.get("files_loaded") != files or len(counts) != 2:
            self.failures.append(f"{label}: the ledger should hold {files} files, all loaded; it holds {counts}")
        if counts.get("songs") != files:
            self.failures.append(f"{label}: the songs table should hold {files} rows; it holds {counts.get('songs')}")
        if total["results_ok"] < tasks:
            self.failures.append(f"{label}: the simulators reported {total['results_ok']} tasks staged, fewer than "
                                 f"the {tasks} planned")
        if total["shut_down"] != a.workers:
            self.failures.append(f"{label}: {total['shut_down']} of {a.workers} simulated workers were told the run "
                                 "is over")
        if final_board and final_board.get("tasks_done") != tasks:
            self.failures.append(f"{label}: the coordinator's status says {final_board.get('tasks_done')} of {tasks} "
                                 "tasks done")
        return fig

    def rss_kb(self, pid):
        for line in (read_text(f"/proc/{pid}/status") or "").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def perf_top(self, path, n=12):
        """perf's busiest (thread, library, function) triples: [(percent, comm, dso, symbol)]."""
        if not os.path.exists(path):
            return None
        res = subprocess.run(["perf", "report", "-i", path, "--stdio", "--no-children", "-g", "none", "--sort",
                              "comm,dso,sym", "--percent-limit", "0.5"], capture_output=True, text=True, timeout=120)
        rows = []
        for line in res.stdout.splitlines():
            m = re.match(r"^\s+([\d.]+)%\s+(\S+)\s+(\S+)\s+\[.\]\s+(.*)$", line)
            if m:
                rows.append((float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()))
        return rows[:n]


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def per_task_us(seconds, run):
    return None if seconds is None or not run.get("tasks") else 1e6 * seconds / run["tasks"]


def write_results(cap, path, commit, wall_s):
    a = cap.args
    with open(os.path.splitext(path)[0] + ".json", "w", encoding="utf-8") as out:
        json.dump({"args": vars(a), "commit": commit, "figures": cap.figures, "failures": cap.failures}, out,
                  indent=2, default=str)
    staged, pre = cap.figures.get("staged", {}), cap.figures.get("prestaged", {})
    cores = os.cpu_count() or 1
    lines = [
        f"# Coordinator capacity: {a.workers:,} simulated workers",
        "",
        f"`bench/capacity.sh{' --smoke' if a.smoke else ''}` on {datetime.date.today()}, commit {commit}, {cores} "
        f"cores. One `loadstar coordinator` listening on `tcp://127.0.0.1` with `--insecure-plaintext` (loopback "
        "only, no CURVE), a private PostgreSQL on the same machine, and "
        f"{a.procs} processes of `loadstar_capacity_sim` holding {a.workers:,} DEALER sockets between them: each "
        "one worker with its own routing id and name, speaking the real protocol (common/transport, proto/) with "
        f"credit {a.credit}. {a.files:,} one-song files (`loadstar generate`) in tasks of {a.task_files} "
        "(`--task-files`). Every result is checked by the coordinator against the ledger before it counts, and "
        "at the end the ledger holds every file as loaded and `songs` one row each. Two runs, each in a fresh "
        "schema:",
        "",
        f"- **staged**: the workers stage every task they are leased with the worker's own stager "
        f"({a.stagers} warehouse connections per simulator process), after a {a.idle_s:g} s heartbeat window in "
        "which every worker is registered with credit 0 (so leased nothing) while tasks are pending.",
        "- **pre-staged**: every file is staged for the run before the workers connect (the same stager, "
        f"500 files a transaction, {fmt(pre.get('prestage_s'), 1)} s), and each worker answers a task at once "
        "with the accounts the ledger holds: what is left is the coordinator (lease, receive, `ledger_confirm`, "
        "the next lease).",
        "",
        "Everything shares the same cores, so every figure is for a coordinator sharing them with PostgreSQL "
        f"and the simulators (the CPU split below says how much each took). The whole command took {wall_s:.0f} s.",
        "",
        "| run | workers | tasks (files) | dispatch rate | coordinator CPU s (dispatch) | peak RSS | heartbeat "
        "msgs/s in / out | coordinator CPU, idle |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, run in (("staged", staged), ("pre-staged", pre)):
        if "tasks_per_s" not in run:
            lines.append(f"| {label} | (no figures: see below) | | | | | | |")
            continue
        d, idle = run["dispatch"], run.get("idle")
        hb = (f"{fmt(run.get('heartbeats_in_per_s'), 0)} / {fmt(run.get('heartbeats_out_per_s'), 0)}"
              if idle else "-")
        idle_pct = (f"{fmt(100 * idle['coordinator_cpu_s'] / idle['seconds'], 1)} % of a core" if idle else "-")
        lines.append(
            f"| {label} | {run['registered']:,} | {run['tasks']:,} ({run['files']:,}) "
            f"| {fmt(run['tasks_per_s'], 0)} tasks/s ({fmt(run['files_per_s'], 0)} files/s) "
            f"| {fmt(d['coordinator_cpu_s'], 2)} in {fmt(d['seconds'], 1)} s "
            f"({fmt(per_task_us(d['coordinator_cpu_s'], run), 0)} us/task) "
            f"| {fmt(run['peak_rss_mb'], 1)} MB | {hb} | {idle_pct} |")
    lines += [
        "",
        "- **Dispatch rate**: tasks / (the coordinator's log line \"every task is staged\" - the moment every "
        f"worker said READY with credit {a.credit}).",
        "- **Heartbeats**: counted by the simulators over the window (in = worker to coordinator). ",
        "- **Peak RSS**: VmHWM of the coordinator over its whole run.",
        "- **Coordinator CPU**: all its threads, from /proc.",
    ]
    if staged.get("idle"):
        t = staged["idle"]["threads_s"]
        lines[-3] += (f"The idle coordinator's {fmt(staged['idle']['coordinator_cpu_s'], 2)} CPU s over "
                      f"{fmt(staged['idle']['seconds'], 1)} s: loop thread {fmt(t['loop'], 2)}, ZeroMQ I/O thread "
                      f"{fmt(t['zmq_io'], 2)}, others {fmt(t['other'], 2)}.")
    if staged.get("rss_planned_mb") is not None and staged.get("rss_registered_mb") is not None:
        lines[-2] += (f" RSS {fmt(staged['rss_planned_mb'], 1)} MB after planning {staged.get('files', 0):,} files, "
                      f"{fmt(staged['rss_registered_mb'], 1)} MB once {staged.get('registered', 0):,} workers had "
                      "registered.")
    lines += ["", "## Where the time goes while dispatching", "",
              "| | staged | pre-staged |", "| --- | ---: | ---: |"]

    def both(title, get, digits=1, unit=""):
        cells = []
        for run in (staged, pre):
            try:
                cells.append(fmt(get(run), digits) + unit)
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("n/a")
        lines.append(f"| {title} | {cells[0]} | {cells[1]} |")

    both("seconds of dispatch", lambda r: r["dispatch"]["seconds"])
    both(f"CPU s available ({cores} cores)", lambda r: r["dispatch"]["seconds"] * cores)
    both("CPU s used, whole machine", lambda r: r["dispatch"]["machine_cpu_s"])
    both("PostgreSQL", lambda r: r["dispatch"]["postgres_cpu_s"])
    both("simulators", lambda r: r["dispatch"]["sims_cpu_s"])
    both("coordinator: loop thread", lambda r: r["dispatch"]["threads_s"]["loop"])
    both("coordinator: ZeroMQ I/O thread", lambda r: r["dispatch"]["threads_s"]["zmq_io"])
    both("coordinator: other threads", lambda r: r["dispatch"]["threads_s"]["other"])
    both("everything else (this driver, perf, the kernel, other work on the machine)",
         lambda r: r["dispatch"]["machine_cpu_s"] - r["dispatch"]["postgres_cpu_s"] - r["dispatch"]["sims_cpu_s"]
         - r["dispatch"]["coordinator_cpu_s"])
    both("load average (1 min) before the run", lambda r: r["load_average"][0], 2)
    both("loop thread on a CPU (schedstat)", lambda r: 100 * r["dispatch"]["loop_on_cpu_s"] / r["dispatch"]["seconds"],
         1, " %")
    both("loop thread waiting for a CPU (schedstat)",
         lambda r: 100 * r["dispatch"]["loop_runqueue_s"] / r["dispatch"]["seconds"], 1, " %")
    states = []
    for run in (staged, pre):
        for state in run.get("loop_states", {}):
            if state not in states:
                states.append(state)
    for state in states:
        both(f"loop thread {state}", lambda r, st=state: 100 * r["loop_states"].get(st, 0), 1, " %")
    lines += ["", "The loop thread is the coordinator's main thread, which runs its whole socket loop. Its time on "
                  "a CPU and waiting for one are from /proc/PID/task/PID/schedstat; the other rows sample "
                  "/proc/PID/task/PID/syscall 100 times a second: libpq waits for PostgreSQL in poll() with no "
                  "timeout, the loop waits for messages in ZeroMQ's poll() with one, and 'running or runnable' is "
                  "the two schedstat rows together."]
    for label, run in (("staged", staged), ("pre-staged", pre)):
        if run.get("perf"):
            lines += ["", f"perf, {label} (`perf record -F 499 -p` on the coordinator while dispatching), the busiest "
                          "functions by self time:", "", "| share | thread | library | function |",
                      "| ---: | --- | --- | --- |"]
            for pct, comm, dso, sym in run["perf"]:
                lines.append(f"| {pct:.1f} % | {comm} | {dso} | `{sym[:90]}` |")
    per_task = [row for row in staged.get("statements") or [] if row[0] >= staged.get("tasks", 0) / 10]
    if per_task:
        lines += ["", "PostgreSQL while the workers staged: the statements run for every task (at least once per "
                      "ten tasks) that took the most execution time, over every connection (the stagers' and the "
                      "coordinator's), from pg_stat_statements:", "", "| calls | total s | mean ms | statement |",
                  "| ---: | ---: | ---: | --- |"]
        for calls, total_ms, mean_ms, text in per_task[:6]:
            lines.append(f"| {calls:,} | {total_ms / 1000:,.1f} | {mean_ms:.3f} | `{text[:100]}` |")
    slow = staged.get("slow_plans") or {}
    if any(v["sampled"] for v in slow.values()):
        lines += ["", "How PostgreSQL ran the stager's two ledger joins while the workers staged: auto_explain logged "
                      "the plan of one in twenty statements slower than 2 ms.", "",
                  "| statement | plans logged | mean ms | reading all of `load_files` (Seq Scan) |",
                  "| --- | ---: | ---: | ---: |"]
        for name, v in slow.items():
            if v["sampled"]:
                lines.append(f"| `{name}` | {v['sampled']:,} | {v['ms'] / v['sampled']:.1f} | {v['seq_scan']:,} |")
    lines += ["", "## What limits it", ""] + limits(cap)
    if cap.failures:
        lines += ["", "## This run did not check out", ""] + [f"- {x}" for x in cap.failures]
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return path


def perf_share(run, *symbols):
    return sum(p for p, _, _, sym in (run.get("perf") or []) if any(s in sym for s in symbols))


def limits(cap):
    """The bullets of 'What limits it', from this run's figures."""
    staged, pre = cap.figures.get("staged", {}), cap.figures.get("prestaged", {})
    cores = os.cpu_count() or 1
    out = []
    if staged.get("dispatch"):
        d, st = staged["dispatch"], staged.get("loop_states", {})
        busy = (d["machine_cpu_s"] or 0) / max(1e-9, d["seconds"] * cores)
        out.append(
            f"- **With real staging, PostgreSQL on shared cores.** {fmt(staged['tasks_per_s'], 0)} tasks/s with "
            f"{100 * busy:.0f} % of {cores} cores busy: PostgreSQL {fmt(d['postgres_cpu_s'], 1)} CPU s "
            f"({fmt(per_task_us(d['postgres_cpu_s'], staged) / 1000, 1)} ms a task: its staging transaction and the "
            f"coordinator's check), simulators {fmt(d['sims_cpu_s'], 1)}, coordinator "
            f"{fmt(d['coordinator_cpu_s'], 1)}. The coordinator's loop waited for messages "
            f"{100 * st.get('waiting for messages (ZeroMQ poll)', 0):.0f} % of the time: it is not what the tasks "
            "wait for.")
    slow = staged.get("slow_plans") or {}
    scans = [name for name, v in slow.items() if v["seq_scan"] > v["sampled"] / 2]
    if scans:
        by_name = {"task_files_select": "SELECT f.file_id", "task_files_record": "UPDATE load_files f SET etag"}
        rows = [r for r in staged.get("statements") or [] if r[0] >= staged.get("tasks", 0) / 10]
        total = sum(r[1] for r in rows) or 1
        means, share = [], 0.0
        for name in scans:
            for calls, total_ms, mean_ms, text in rows:
                if text.startswith(by_name[name]):
                    means.append(f"`{name}` {mean_ms:.1f} ms")
                    share += total_ms
        out.append(
            f"- **Every task reads the whole ledger.** {' and '.join(f'`{n}`' for n in scans)} join the task's "
            "temporary table to `load_files` with a hash join over a sequential scan of `load_files` in most of "
            "the plans auto_explain logged: the temporary tables have no statistics, so the planner takes them for "
            "hundreds of rows. Each task then reads every ledger row, and staging slows as the ledger grows"
            + (f": at {staged.get('files', 0):,} files they took {', '.join(means)} a task on average, "
               f"{100 * share / total:.0f} % of PostgreSQL's time in the per-task statements. " if means else ". ") +
            "Looking the task's files up by index (as `ledger_confirm` does with `uri = ANY($1)`), or ANALYZE of the "
            "two scratch tables after their COPY, would make the cost per task independent of the ledger.")
    if pre.get("dispatch"):
        st, d = pre.get("loop_states", {}), pre["dispatch"]
        pg = st.get("in PostgreSQL (libpq poll)", 0)
        cpu = d["loop_on_cpu_s"] / d["seconds"]
        queued = d["loop_runqueue_s"] / d["seconds"]
        scans = perf_share(pre, "Scheduler::Expire", "WorkersDueHeartbeat")
        out.append(
            f"- **The coordinator alone: one loop thread.** With staging out of the way it confirms "
            f"{fmt(pre['tasks_per_s'], 0)} tasks/s ({fmt(pre['files_per_s'], 0)} files/s) for {pre['registered']:,} "
            f"workers, " + (f"and its loop thread never waits for a message: it is the bottleneck. "
                            if st.get("waiting for messages (ZeroMQ poll)", 0) < 0.1 else
                            f"its loop thread waiting for messages {100 * st.get('waiting for messages (ZeroMQ poll)', 0):.0f} "
                            "% of the time. ") +
            f"The thread is on a "
            f"CPU {100 * cpu:.0f} % of the time ({fmt(1e6 * d['loop_on_cpu_s'] / pre['tasks'], 0)} us a task), "
            f"waiting for a CPU {100 * queued:.0f} % (the cores are shared), and in libpq {100 * pg:.0f} %: every "
            "result waits for `ledger_confirm`, a synchronous round trip to PostgreSQL made on the loop, during "
            "which no other message is read. Confirming results on a connection of their own (or several results "
            "per query) would take that share off the loop; so would a core of its own for PostgreSQL.")
        if scans:
            out.append(
                f"- **Per-message scans of every worker.** `Scheduler::Expire` and `Scheduler::WorkersDueHeartbeat` "
                f"take {scans:.0f} % of the coordinator's perf samples in the pre-staged run: the loop calls both "
                f"on every turn (every message), each walks all {pre['registered']:,} workers and sorts what it "
                "finds, so the loop's cost per message grows with the fleet. Running them on a timer (a few times "
                "per heartbeat interval) or keeping workers ordered by deadline would make them O(1) per message.")
    idle = staged.get("idle")
    if idle and idle.get("seconds"):
        msgs = (staged.get("heartbeats_in_per_s", 0) + staged.get("heartbeats_out_per_s", 0)) * idle["seconds"]
        grow = (staged.get("rss_registered_mb", 0) - staged.get("rss_planned_mb", 0)) / max(1, staged["registered"])
        out.append(
            f"- **Idle workers are cheap; memory grows with connections.** {staged['registered']:,} heartbeating "
            f"workers cost {100 * idle['coordinator_cpu_s'] / idle['seconds']:.1f} % of a core "
            f"({1e6 * idle['coordinator_cpu_s'] / max(1, msgs):.0f} us per heartbeat sent or received, its "
            f"scans of every worker on each loop turn included). RSS grew by {1024 * grow:.0f} KB per registered worker (ZeroMQ's "
            "per-connection state and the per-worker entries); the coordinator needs a descriptor per worker "
            "(this bench raises its RLIMIT_NOFILE soft limit to the hard one; the coordinator does not itself).")
    out.append(
        "- **Not measured here: warehouse connections.** A real `loadstar worker` holds one warehouse "
        "connection per task slot (`--concurrency`, default 2), so 1,000 real workers would hold about 2,000 "
        "PostgreSQL connections, twenty times PostgreSQL's default `max_connections` (100); the simulators "
        f"share {cap.args.stagers} per process. A fleet this size needs a connection pooler or fewer, wider "
        "workers.")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--pg-uri", required=True)
    p.add_argument("--pg-dir", required=True)
    p.add_argument("--workers", type=int, default=1000)
    p.add_argument("--procs", type=int, default=4)
    p.add_argument("--files", type=int, default=100_000)
    p.add_argument("--task-files", type=int, default=10)
    p.add_argument("--credit", type=int, default=2)
    p.add_argument("--stagers", type=int, default=2)
    p.add_argument("--settle-s", type=float, default=5)
    p.add_argument("--idle-s", type=float, default=10)
    p.add_argument("--dispatch-timeout-s", type=float, default=150)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--perf", type=int, default=1)
    p.add_argument("--statements", type=int, default=0, help="1: pg_stat_statements and auto_explain are loaded")
    p.add_argument("--pg-log", default="", help="PostgreSQL's log, where auto_explain writes")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--results", required=True, help="the markdown file to write (and .json beside it)")
    a = p.parse_args()

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, stop)

    cap = None
    started = time.time()
    try:
        cap = Capacity(a)
        cap.run()
    except (RunError, KeyboardInterrupt) as e:
        if cap is not None:
            cap.failures.append(str(e))
        else:
            print(f"error: {e}", file=sys.stderr)
            return 1
    finally:
        if cap is not None:
            cap.stop_all()
    commit = git_head(a.root)
    if any("tasks_per_s" in cap.figures.get(k, {}) for k in ("staged", "prestaged")):
        md = write_results(cap, a.results, commit, time.time() - started)
        note(f"wrote {md}")
        print(read_text(md), end="")
    for failure in cap.failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if cap.failures else 0


if __name__ == "__main__":
    sys.exit(main())
