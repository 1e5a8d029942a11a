"""Where a user's time goes, measured on this machine and printed as ratios beside their targets.

    python benchmarks/run.py [--jobs 1000] [--parallel 400] [--repeat 5] [--flat 5000]

Each figure is measured beside its reference in the same run, each sweep in a folder (and store)
of its own; the store is sqlite, made by the runner as a user's first command makes it.

1. a 1,000-job sweep (`-m gate=or,and,nand,nor lr=0.1,0.5,1,2,5 seed=range(0,50)`, plots on),
   per job, against stock Hydra's per job (its basic sweeper and launcher running a task that
   does nothing over the same configs: benchmarks/noop.py), and against MLflow's smallest
   complete run (benchmarks/floor.py: create, one log_batch, end; warm, 200 in a row);
2. the same sweep with plots=false, against that smallest run;
3. 400 of those jobs on 2 processes (hydra/launcher=parallel), against the default launcher on
   the same 400: the median of 3 pairs; and Hydra's joblib launcher with 2 workers, when installed;
4. one run, `python -m runner gate=or lr=1`, against the bare floor: a process that imports
   numpy, pandas, hydra and mlflow and logs that smallest run to the same store (median of 5);
5. the sweep's memory: its process's RSS after job 100 and after job 1,000;
6. the core: the perceptron rule on 65,536 rows of 16 bipolar inputs against scikit-learn's
   Perceptron with the same settings, both reaching the same weights after the same epochs;
7. the progress's cost, flat per job: a 5,000-job sweep's time per job (plots=false) against a
   200-job sweep's, and a job's progress line added after 5,000 lines against after 200;
8. the decision line epoch by epoch as MLflow images: a 200-job sweep with epoch_images=true
   against the same sweep without (plots on, both);
9. a cluster's store: a 200-job sweep's time on a local `mlflow server` (HTTP, sqlite behind it)
   against the same sweep on the sqlite store;
10. hydra/launcher=parallel with 2 workers against the default launcher, both on an `mlflow
   server` with PostgreSQL behind it (when PostgreSQL is installed), over the jobs of figure 3;
11. the sweep's page (sweep.html), written once at its close: the time to make it from the
   figure-1 sweep's summary, against that sweep's whole time.

Appends the figures, with the date and the commit, to benchmarks/results.csv.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from services import mlflow_server, postgres, postgres_binaries  # noqa: E402  (the tests' servers)

RESULTS = HERE / "results.csv"
PY = sys.executable
LEAN = ["plots=false"]


def sweep_args(jobs: int) -> list[str]:
    """The issue's default sweep: 4 gates × 5 learning rates × jobs/20 seeds."""
    return ["-m", "gate=or,and,nand,nor", "lr=0.1,0.5,1,2,5", f"seed=range(0,{max(1, jobs // 20)})"]


def fresh(parent: Path, name: str, store: str | None = None) -> Path:
    """A folder whose store the runner makes, as a user's first command does (`store`: a
    tracking server's URL instead of the folder's sqlite file)."""
    folder = parent / name
    folder.mkdir()
    subprocess.run(
        [PY, "-m", "runner", "gate=or", "lr=1", "plots=false"],
        cwd=folder,
        check=True,
        capture_output=True,
        env=store_env(store),
    )
    return folder


def store_env(store: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return {**env, "MLFLOW_TRACKING_URI": store} if store else env


def wall(args: list[str], cwd: Path, store: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, env=store_env(store))
    return time.perf_counter() - start


def on_servers(root: Path, parallel: int) -> dict[str, float]:
    """Figures 9 and 10: a sweep through `mlflow server`, each beside its reference."""
    f: dict[str, float] = {}
    grid = [PY, "-m", "runner", *sweep_args(200)]
    (root / "http-sqlite").mkdir()
    with mlflow_server(root / "http-sqlite") as server:
        f["server_200_s"] = wall(grid, fresh(root, "on-server", server.url), server.url)
    f["sqlite_200_s"] = wall(grid, fresh(root, "on-sqlite"))
    bin_dir = postgres_binaries()
    if bin_dir is None:
        return f
    some = [PY, "-m", "runner", *sweep_args(parallel)]
    (root / "http-pg").mkdir()
    with postgres(bin_dir) as uri, mlflow_server(root / "http-pg", uri) as server:
        f["pg_default_s"] = wall(some, fresh(root, "pg-default", server.url), server.url)
        two = ["hydra/launcher=parallel", "hydra.launcher.n_jobs=2"]
        f["pg_parallel_s"] = wall([*some, *two], fresh(root, "pg-parallel", server.url), server.url)
    return f


def sweep_with_memory(args: list[str], cwd: Path, marks: tuple[int, ...]) -> tuple[float, dict[int, float]]:
    """Wall time of a sweep, and its process's RSS (MB) when its progress file first counts
    each of `marks` jobs ended. Read from /proc (Linux)."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rss: dict[int, float] = {}
    while process.poll() is None:
        done = sum(len(p.read_bytes().splitlines()) for p in cwd.glob("outputs/multirun/*/*/progress.log"))
        for mark in marks:
            if mark not in rss and done >= mark:
                try:
                    status = Path(f"/proc/{process.pid}/status").read_text()
                except OSError:
                    break
                kb = next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]
                rss[mark] = int(kb) / 1024
        time.sleep(0.05)
    if process.returncode:
        raise SystemExit(f"{' '.join(args)} failed")
    return time.perf_counter() - start, rss


def mlflow_floor(folder: Path, runs: int) -> float:
    out = subprocess.run(
        [PY, str(HERE / "floor.py"), f"sqlite:///{folder / 'outputs' / 'mlflow.db'}", str(runs)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.split()[-1])


def core_versus_sklearn() -> tuple[float, float, int]:
    """Seconds for our perceptron and for scikit-learn's on the same separable table, and epochs."""
    from sklearn.linear_model import Perceptron

    from runner import perceptron

    rng = np.random.default_rng(0)
    n = 16
    x = rng.choice([-1.0, 1.0], size=(65_536, n))
    # integer weights in [-16, 16] and a half-integer bias: no ties, and a margin small enough
    # that training from zero weights takes about a dozen epochs (11, with 6,540 updates)
    plane = rng.integers(-16, 17, size=n).astype(float)
    targets = np.where(x @ plane + 0.5 > 0, 1.0, -1.0)
    start = time.perf_counter()
    # sklearn updates when t·yin <= 0: the band rule with θ = 0
    ours = perceptron.train(
        x,
        targets,
        np.zeros(n),
        0.0,
        perceptron.Setup(1.0, 1000, activation="band", theta=0.0, max_trace_rows=10_000),
    )
    ours_s = time.perf_counter() - start
    theirs = Perceptron(shuffle=False, eta0=1.0, penalty=None, tol=None, max_iter=ours.epochs)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns that max_iter was reached
        theirs.fit(x, targets, coef_init=np.zeros((1, n)), intercept_init=np.zeros(1))
    theirs_s = time.perf_counter() - start
    same = np.allclose(theirs.coef_[0], ours.weights) and np.isclose(theirs.intercept_[0], ours.bias)
    if not (ours.converged and same and theirs.n_iter_ == ours.epochs):
        raise SystemExit("the core and scikit-learn disagree: not a fair comparison")
    return ours_s, theirs_s, ours.epochs


def progress_line_s(lines_before: int, folder: Path) -> float:
    """A job's progress line added (runner/tracking/progress.py) to a file that holds `lines_before`: the
    median of 200."""
    from runner.tracking import progress

    folder.mkdir()
    outcome = "or lr=1 seed=0: Converged after 3 epochs with 3 updates: final W = (1, 1), b = 1"
    (folder / progress.PROGRESS_FILE).write_text(f"{time.time():.3f} {outcome}\n" * lines_before)
    times = []
    for _ in range(200):
        start = time.perf_counter()
        progress.append(folder, outcome)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sweep_page_s(folder: Path) -> float:
    """The time to make a sweep's page from its summary, as its close does (the best of 3)."""
    import pandas as pd

    from runner import pivots
    from runner.axes import layout
    from runner.pages import sweep_page
    from runner.tracking.axes import Axis

    (summary_csv,) = folder.glob("outputs/multirun/*/*/summary.csv")
    summary = pd.read_csv(summary_csv)
    axes = [Axis("gate", (), False), Axis("lr", (), True), Axis("seed", (), True)]
    shape = layout(axes)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        tables, mean = pivots.pivots(summary, shape), pivots.mean_epochs(summary, shape)
        page = sweep_page.SweepPage("sweep", "", "", "", "", "", {})
        sweep_page.grid_page(page, summary, shape, mean, tables)
        times.append(time.perf_counter() - start)
    return min(times)


def measure(jobs: int, parallel: int, repeat: int, flat: int) -> dict[str, float]:
    f: dict[str, float] = {"jobs": jobs, "parallel_jobs": parallel}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        floor_dir = fresh(root, "floor")
        f["mlflow_run_s"] = mlflow_floor(floor_dir, 200)

        big = sweep_args(jobs)
        swept = fresh(root, "sweep")
        f["sweep_s"], rss = sweep_with_memory([PY, "-m", "runner", *big], swept, (100, jobs))
        f["sweep_page_s"] = sweep_page_s(swept)
        f["rss_100_mb"], f["rss_last_mb"] = rss.get(100, float("nan")), rss.get(jobs, float("nan"))
        f["lean_sweep_s"] = wall([PY, "-m", "runner", *big, *LEAN], fresh(root, "lean"))
        stock = [PY, str(HERE / "noop.py"), *big, "~hydra.callbacks.mlflow_sweep"]
        f["hydra_noop_s"] = wall([*stock, "hydra/sweeper=basic", "hydra/launcher=basic"], fresh(root, "noop"))

        some = sweep_args(parallel)
        two = ["hydra/launcher=parallel", "hydra.launcher.n_jobs=2"]
        pairs = []  # this machine's noise moves a sweep by a tenth: the median of 3 pairs
        for k in range(3):
            default = wall([PY, "-m", "runner", *some], fresh(root, f"default{k}"))
            pairs.append((wall([PY, "-m", "runner", *some, *two], fresh(root, f"parallel{k}")), default))
        f["parallel_400_s"], f["default_400_s"] = sorted(pairs, key=lambda p: p[0] / p[1])[1]
        if importlib.util.find_spec("hydra_plugins.hydra_joblib_launcher"):
            joblib = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
            f["joblib_400_s"] = wall([PY, "-m", "runner", *some, *joblib], fresh(root, "joblib"))

        images = []  # side by side, twice; the pair of the lower ratio (noise only adds)
        for k in range(2):
            without = wall([PY, "-m", "runner", *sweep_args(200)], fresh(root, f"plain200-{k}"))
            stepped = [PY, "-m", "runner", *sweep_args(200), "epoch_images=true"]
            images.append((wall(stepped, fresh(root, f"images200-{k}")), without))
        f["images_200_s"], f["plain_200_s"] = sorted(images, key=lambda p: p[0] / p[1])[0]

        single = fresh(root, "single")
        floors, runs = [], []
        for _ in range(repeat):  # side by side, one after the other
            start = time.perf_counter()
            mlflow_floor(single, 1)
            floors.append(time.perf_counter() - start)
            runs.append(wall([PY, "-m", "runner", "gate=or", "lr=1"], single))
        f["bare_floor_s"], f["single_run_s"] = statistics.median(floors), statistics.median(runs)
        if flat:
            f["flat_jobs"] = flat
            f["lean_200_s"] = wall([PY, "-m", "runner", *sweep_args(200), *LEAN], fresh(root, "lean200"))
            f["lean_flat_s"] = wall([PY, "-m", "runner", *sweep_args(flat), *LEAN], fresh(root, "leanflat"))
            f["progress_200_s"] = progress_line_s(200, root / "progress200")
            f["progress_flat_s"] = progress_line_s(flat, root / "progressflat")
        f.update(on_servers(root, parallel))
    f["core_s"], f["sklearn_s"], f["core_epochs"] = core_versus_sklearn()
    return f


def report(f: dict[str, float]) -> list[tuple[str, float, str, bool]]:
    """(figure, ratio, target, met) for each target."""
    n, p = f["jobs"], f["parallel_jobs"]
    per_job, lean, noop = f["sweep_s"] / n, f["lean_sweep_s"] / n, f["hydra_noop_s"] / n
    floor = f["mlflow_run_s"]
    rows = [
        (f"1a. {n:.0f}-job sweep, per job ÷ stock Hydra's no-op per job", per_job / noop, 0.5),
        ("1b.   the same ÷ MLflow's smallest complete run", per_job / floor, 4.0),
        ("2.  the same with plots=false ÷ MLflow's smallest run", lean / floor, 2.0),
        (
            f"3.  {p:.0f} jobs, parallel n_jobs=2 ÷ default launcher",
            f["parallel_400_s"] / f["default_400_s"],
            0.6,
        ),
        ("4.  one run ÷ the bare floor process", f["single_run_s"] / f["bare_floor_s"], 1.15),
    ]
    out = [(label, ratio, f"≤ {target:g}", ratio <= target) for label, ratio, target in rows]
    growth = f["rss_last_mb"] - f["rss_100_mb"]
    out.append((f"5.  RSS after job {n:.0f} − after job 100 (MB)", growth, "≤ 20", growth <= 20))
    if "flat_jobs" in f:
        big = f["flat_jobs"]
        per_job = (f["lean_flat_s"] / big) / (f["lean_200_s"] / 200)
        out.append(
            (f"7a. {big:.0f}-job sweep per job ÷ 200-job, plots=false", per_job, "≤ 1.15", per_job <= 1.15)
        )
        line = f["progress_flat_s"] / f["progress_200_s"]
        out.append((f"7b. a progress line after {big:.0f} lines ÷ after 200", line, "≤ 1.5", line <= 1.5))
    images = f["images_200_s"] / f["plain_200_s"]
    out.append(("8.  200 jobs, epoch_images=true ÷ without", images, "report", True))
    page = f["sweep_page_s"] / f["sweep_s"]
    out.append((f"11. the {n:.0f}-job sweep's page ÷ the whole sweep", page, "report", True))
    server = f["server_200_s"] / f["sqlite_200_s"]
    out.append(("9.  200 jobs on mlflow server (sqlite behind) ÷ on sqlite", server, "report", True))
    if "pg_parallel_s" in f:
        two = f["pg_parallel_s"] / f["pg_default_s"]
        out.append((f"10. {p:.0f} jobs on a server on PostgreSQL, parallel 2 ÷ default", two, "report", True))
    return out


def append(f: dict[str, float]) -> None:
    """Add a row to results.csv; a new column widens the file, old rows keep their figures."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
    ).stdout.strip()
    row = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "commit": commit, **f}
    rows, columns = [], list(row)
    if RESULTS.exists():
        with RESULTS.open(newline="") as old:
            reader = csv.DictReader(old)
            rows = list(reader)
            columns = list(reader.fieldnames or []) + [c for c in row if c not in (reader.fieldnames or [])]
    with RESULTS.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows([*rows, row])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="jobs in the big sweeps (default 1000)")
    parser.add_argument("--parallel", type=int, default=400, help="jobs in the launcher comparison (400)")
    parser.add_argument("--repeat", type=int, default=5, help="single runs and floors, for the median (5)")
    parser.add_argument("--flat", type=int, default=5000, help="jobs of the progress figure; 0: none (5000)")
    options = parser.parse_args()
    jobs, parallel, flat = (
        20 * max(1, n // 20) if n else 0 for n in (options.jobs, options.parallel, options.flat)
    )
    f = measure(jobs, parallel, options.repeat, flat)
    n = f["jobs"]
    print(f"{'figure':<62} {'ratio':>7}  target  met")
    for label, ratio, target, met in report(f):
        print(f"{label:<62} {ratio:7.2f}  {target:<6}  {'yes' if met else 'NO'}")
    ms = {k: f[k] / n * 1000 for k in ("sweep_s", "lean_sweep_s", "hydra_noop_s")}
    print(
        f"\nper job: sweep {ms['sweep_s']:.1f} ms, plots=false {ms['lean_sweep_s']:.1f} ms, stock Hydra "
        f"no-op {ms['hydra_noop_s']:.1f} ms, MLflow's smallest run {f['mlflow_run_s'] * 1000:.1f} ms"
    )
    joblib = f", joblib {f['joblib_400_s']:.1f} s" if "joblib_400_s" in f else ""
    print(
        f"{f['parallel_jobs']:.0f} jobs: default {f['default_400_s']:.1f} s, "
        f"parallel {f['parallel_400_s']:.1f} s{joblib}"
    )
    print(f"one run {f['single_run_s']:.2f} s, bare floor {f['bare_floor_s']:.2f} s")
    print(f"RSS {f['rss_100_mb']:.0f} MB after job 100, {f['rss_last_mb']:.0f} MB after job {n:.0f}")
    if "flat_jobs" in f:
        print(
            f"plots=false per job: 200 jobs {f['lean_200_s'] / 200 * 1000:.1f} ms, "
            f"{f['flat_jobs']:.0f} jobs {f['lean_flat_s'] / f['flat_jobs'] * 1000:.1f} ms; "
            f"a progress line after 200 lines {f['progress_200_s'] * 1e3:.2f} ms, "
            f"after {f['flat_jobs']:.0f}: {f['progress_flat_s'] * 1e3:.2f} ms"
        )
    print(
        f"core {f['core_s']:.3f} s vs scikit-learn {f['sklearn_s']:.3f} s "
        f"({f['core_epochs']:.0f} epochs, same weights)"
    )
    print(
        f"200 jobs, plots on: {f['plain_200_s'] / 200 * 1000:.1f} ms a job, with epoch_images=true "
        f"{f['images_200_s'] / 200 * 1000:.1f} ms"
    )
    print(
        f"200 jobs: on mlflow server (sqlite) {f['server_200_s'] / 200 * 1000:.1f} ms a job, "
        f"on sqlite {f['sqlite_200_s'] / 200 * 1000:.1f} ms"
    )
    if "pg_parallel_s" in f:
        print(
            f"{f['parallel_jobs']:.0f} jobs on mlflow server (PostgreSQL): "
            f"default {f['pg_default_s']:.1f} s, parallel n_jobs=2 {f['pg_parallel_s']:.1f} s"
        )
    append(f)
    print(f"appended to {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
