"""What every measurement needs: the machine's description, a private sandbox, a private warehouse,
and a child process that runs the import so its peak memory and CPU can be read exactly.

Nothing here is timed against a wall clock in a test: these are tools for `python -m benchmarks`.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from benchmarks.postgres import postgres_available, throwaway_database
from cinegraph_assets.launcher import SANDBOX_API_KEY, SandboxProcess

REPO = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------- machine

def machine_info() -> dict:
    """What the numbers were measured on (they mean little without it)."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_mb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    try:
        from importlib.metadata import version

        dagster_version = version("dagster")
    except Exception:  # pragma: no cover - dagster is a dependency
        dagster_version = None
    return {
        "hostname": socket.gethostname(),
        "cpu_count": os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "memory_mb": mem_mb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "dagster": dagster_version,
    }


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a live process (all its threads) has used so far."""
    try:
        fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields_[11]) + int(fields_[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


class PostgresCpuSampler:
    """CPU seconds used by the PostgreSQL backends serving one database while a run goes on.

    Backends come and go with connections, so /proc is polled and each backend's last reading kept.
    """

    def __init__(self, database: str, every: float = 0.25):
        self.database, self.every = database, every
        self._seen: dict[int, float] = {}
        self._start: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _backends(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"postgres:") and f" {self.database} ".encode() in cmdline:
                pids.append(int(entry.name))
        return pids

    def _poll(self) -> None:
        while not self._stop.is_set():
            for pid in self._backends():
                cpu = process_cpu_seconds(pid)
                if cpu is not None:
                    self._start.setdefault(pid, 0.0)  # connected during the run
                    self._seen[pid] = cpu
            self._stop.wait(self.every)

    def __enter__(self) -> "PostgresCpuSampler":
        # Backends alive before the run (e.g. the one that created the schema) count from here.
        for pid in self._backends():
            cpu = process_cpu_seconds(pid)
            if cpu is not None:
                self._start[pid] = cpu
                self._seen[pid] = cpu
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_seconds(self) -> float:
        return round(sum(cpu - self._start.get(pid, 0.0) for pid, cpu in self._seen.items()), 2)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- sandbox

class Sandbox(SandboxProcess):
    """A private sandbox on a free port (the package's launcher), named for its log file, with the
    benchmarks' defaults: a demo catalog whose clock starts on 2025-07-01.

    Options map to command-line flags: max_rps=40 -> --max-rps 40, year_size=["2024=4000"] ->
    --year-size 2024=4000 (repeated for a list).
    """

    def __init__(self, *, seed: int = 7, scale: str = "demo", start_date: str | None = "2025-07-01",
                 name: str = "sandbox", log_dir: Path | None = None, **options):
        self.name = name
        self.log_dir = log_dir
        log_file = open(log_dir / f"{name}.log", "w") if log_dir else subprocess.DEVNULL
        super().__init__(seed=seed, scale=scale, start_date=start_date, stderr=log_file,
                         stop_grace=10.0, **options)

    def settings(self) -> dict:
        """What the results record of this sandbox: the options it was started with."""
        return dict(self.options)

    def cpu_seconds(self) -> float | None:
        return process_cpu_seconds(self.process.pid) if self.process else None


def api_requests(stats: dict) -> dict:
    """Requests to the TMDb API (/3) from a stats snapshot: total, by kind, and 429s."""
    discover = details = other = 0
    by_status: dict[str, int] = {}
    for label, statuses in stats.get("requests", {}).items():
        n = sum(statuses.values())
        for status, count in statuses.items():
            by_status[status] = by_status.get(status, 0) + count
        if "discover" in label:
            discover += n
        elif "movie" in label and "changes" not in label:
            details += n
        elif label.startswith("/omdb") or label.startswith("/oscars") or label.startswith("/_sandbox"):
            continue
        else:
            other += n
    return {
        "requests": discover + details + other,
        "discover_requests": discover,
        "detail_requests": details,
        "other_requests": other,
        "rate_limited_429": stats.get("rate_limited", by_status.get("429", 0)),
        "by_status": by_status,
        "max_requests_per_second": stats.get("max_requests_per_second"),
        "max_concurrent_connections": stats.get("max_concurrent_connections"),
    }


# --------------------------------------------------------------------------------------------- warehouses

@contextmanager
def sqlite_warehouse(workdir: Path, name: str) -> Iterator[str]:
    path = workdir / f"{name}.sqlite"
    yield f"sqlite:///{path}"


# Throwaway PostgreSQL databases come from the test support (one implementation for both);
# CINEGRAPH_TEST_POSTGRES_URL points them at another server.
postgres_warehouse = throwaway_database
postgres_reachable = postgres_available


# --------------------------------------------------------------------------------------------- child runs

@dataclass
class ImportSpec:
    """One child process: materialize the TMDb assets for some partitions."""

    warehouse_url: str
    tmdb: dict  # TMDbResource fields (base_url, api_key, max_rps, max_workers, state_dir, ...)
    partitions: list[str]
    dagster_home: str | None = None  # None: an ephemeral in-memory instance
    # Attribute names in cinegraph_assets.tmdb.assets (the details+movies multi-asset is one step).
    assets: list[str] = field(default_factory=lambda: ["tmdb_discovered_movies", "tmdb_details_and_movies"])
    year_counts: list[int] = field(default_factory=list)  # years whose movies to count afterwards


@dataclass
class ChildResult:
    """What the child reported plus what the kernel says about it."""

    report: dict
    wall_seconds: float  # from fork to exit (includes interpreter start and imports)
    peak_rss_mb: float  # ru_maxrss of the child: the high-water mark of its resident memory
    cpu_seconds: float  # user + system over the child's whole life
    returncode: int
    stderr_tail: str = ""


def run_child(spec: ImportSpec, workdir: Path, name: str, *, profile: str | None = None,
              profile_dir: Path | None = None) -> ChildResult:
    """Run benchmarks.child in a fresh process and collect its rusage with wait4.

    profile: None, or "py-spy" to sample the child (all threads, idle included) into profile_dir.
    """
    spec_path = workdir / f"{name}.spec.json"
    out_path = workdir / f"{name}.result.json"
    err_path = workdir / f"{name}.stderr.log"
    spec_path.write_text(json.dumps(spec.__dict__))
    cmd = [sys.executable, "-m", "benchmarks.child", str(spec_path), str(out_path)]
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["DAGSTER_HOME"] = spec.dagster_home or str(workdir / f"{name}.dagster_home")
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    env["CINEGRAPH_STATE_DIR"] = spec.tmdb.get("state_dir") or str(workdir / "state")
    started = time.monotonic()
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=err, stderr=subprocess.STDOUT)
        spy = None
        if profile == "py-spy" and profile_dir is not None:
            spy = _start_py_spy(proc.pid, profile_dir / name)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if spy is not None:
            try:
                spy.wait(60)
            except subprocess.TimeoutExpired:
                spy.kill()
    wall = time.monotonic() - started
    report = json.loads(out_path.read_text()) if out_path.exists() else {}
    tail = err_path.read_text(errors="replace")[-4000:] if err_path.exists() else ""
    return ChildResult(report=report, wall_seconds=wall, peak_rss_mb=usage.ru_maxrss / 1024.0,
                       cpu_seconds=usage.ru_utime + usage.ru_stime, returncode=proc.returncode,
                       stderr_tail=tail)


def _start_py_spy(pid: int, stem: Path) -> subprocess.Popen | None:
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        log("py-spy is not installed (pip install py-spy into the venv): no profile")
        return None
    stem.parent.mkdir(parents=True, exist_ok=True)
    # raw = collapsed stacks, one line per distinct stack with its sample count: easy to aggregate
    # by function (benchmarks/profile_summary.py) and to feed to any flame graph tool.
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", "50", "--idle", "--threads",
                             "--format", "raw", "--output", f"{stem}.collapsed", "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tmdb_fields(sandbox: Sandbox, *, max_rps: float, state_dir: Path, max_workers: int | None = None) -> dict:
    fields_ = {"base_url": sandbox.tmdb_url, "api_key": SANDBOX_API_KEY, "max_rps": float(max_rps),
               "state_dir": str(state_dir)}
    if max_workers is not None:
        fields_["max_workers"] = int(max_workers)
    return fields_


class Parallel:
    """Run a few measurement pipelines side by side in threads (they mostly wait on children)."""

    def __init__(self):
        self.threads: list[threading.Thread] = []
        self.errors: list[tuple[str, BaseException]] = []

    def start(self, name: str, fn, *args) -> None:
        def target() -> None:
            try:
                fn(*args)
            except BaseException as exc:  # reported by join()
                self.errors.append((name, exc))

        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self) -> list[tuple[str, BaseException]]:
        for thread in self.threads:
            thread.join()
        return self.errors


def report(record: dict, json_path: str | None) -> int:
    """A lone measurement's ending: its record printed (and written to `json_path`), exit code 0
    when every goal was met."""
    text = json.dumps(record, indent=2, default=str)
    if json_path:
        Path(json_path).write_text(text + "\n")
    print(text)
    return 0 if all(record["met"].values()) else 1


def temp_workdir() -> Path:
    """Where a run keeps its warehouses, Dagster homes, specs and logs (removed unless --keep)."""
    return Path(tempfile.mkdtemp(prefix="cinegraph_bench_"))
