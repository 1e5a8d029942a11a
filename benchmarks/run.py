"""Where a user's time goes, measured on this machine and printed as ratios.

    python benchmarks/run.py [--jobs 200] [--big 1000]

1. one run, `python -m runner gate=or lr=1`, against the import floor
   (`python -c "import numpy, pandas, hydra, mlflow"`);
2. a sweep of N jobs (gates × lr × seed), per job, against the per-job floor: bare Hydra running a
   task that does nothing over the same config tree, plus MLflow's smallest complete run;
3. the same sweep with Hydra's joblib launcher and 2 workers, against the basic launcher
   (skipped when hydra-joblib-launcher is not installed);
5. a 1,000-job sweep, each job its own MLflow run under the sweep's parent: its wall time, and
   its peak memory (RSS) after a tenth of its time and at its end (flat: no growth per job);
4. the core: epochs per second of the perceptron rule on 65,536 rows of 16 bipolar inputs,
   against scikit-learn's Perceptron with the textbook-equivalent settings, checking that both
   reach the same weights after the same number of epochs.

Each run appends its figures, with the date and the commit, to benchmarks/results.csv.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.csv"
COLUMNS = [
    "date",
    "commit",
    "jobs",
    "import_floor_s",
    "single_run_s",
    "sweep_per_job_s",
    "hydra_per_job_s",
    "mlflow_run_s",
    "joblib2_per_job_s",
    "core_s",
    "sklearn_s",
    "core_epochs",
    "big_jobs",
    "big_sweep_s",
    "big_rss_early_mb",
    "big_rss_peak_mb",
]
GATES = "or,and,nand,nor"
LRS = [0.1, 0.25, 0.5, 1, 2]


def wall(args: list[str], cwd: Path, repeat: int = 1) -> float:
    """The median wall time of a command, in seconds; it must succeed."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sweep_overrides(jobs: int) -> list[str]:
    seeds = max(1, jobs // (4 * len(LRS)))
    return [f"gate={GATES}", "lr=" + ",".join(map(str, LRS)), "seed=" + ",".join(map(str, range(seeds)))]


def sweep_memory(args: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall time of a sweep, and its process's resident memory (MB): the peak over the first
    tenth of its time, and the peak over all of it. Read from /proc (Linux)."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = []
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
            samples.append((time.perf_counter() - start, kb / 1024))
        except (OSError, StopIteration):
            pass
        time.sleep(0.25)
    total = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"{' '.join(args)} failed")
    early = max(mb for t, mb in samples if t <= total / 10)
    return total, early, max(mb for _, mb in samples)


def smallest_mlflow_run(folder: Path, runs: int = 30) -> float:
    """Seconds for MLflow's smallest complete run on sqlite: create, one batch, one artifact, end."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'floor.db'}")
    experiment = client.create_experiment("floor", artifact_location=(folder / "art").as_uri())
    artifact = folder / "a.csv"
    artifact.write_text("x\n1\n")
    start = time.perf_counter()
    for _ in range(runs):
        run_id = client.create_run(experiment).info.run_id
        client.log_batch(run_id, metrics=[Metric("m", 1.0, 0, 0)], params=[Param("p", "1")])
        client.log_artifact(run_id, str(artifact))
        client.set_terminated(run_id, "FINISHED")
    return (time.perf_counter() - start) / runs


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs in the sweep (default 200)")
    parser.add_argument(
        "--big", type=int, default=1000, help="jobs in the big sweep (default 1000; 0 skips it)"
    )
    options = parser.parse_args()
    jobs = options.jobs
    py = sys.executable
    figures: dict[str, float | str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wall([py, "-m", "runner", "gate=or", "lr=1"], folder)  # creates the store
        figures["import_floor_s"] = wall([py, "-c", "import numpy, pandas, hydra, mlflow"], folder, 3)
        figures["single_run_s"] = wall([py, "-m", "runner", "gate=or", "lr=1"], folder, 3)

        overrides = sweep_overrides(jobs)
        n = 4 * len(LRS) * max(1, jobs // (4 * len(LRS)))
        figures["jobs"] = n
        figures["sweep_per_job_s"] = wall([py, "-m", "runner", "-m", *overrides], folder) / n
        # the floor is Hydra's own basic sweeper and launcher, not this project's cached ones
        noop = [
            py,
            str(HERE / "noop.py"),
            "-m",
            *overrides,
            "~hydra.callbacks.mlflow_sweep",
            "hydra/sweeper=basic",
            "hydra/launcher=basic",
        ]
        figures["hydra_per_job_s"] = wall(noop, folder) / n
        figures["mlflow_run_s"] = smallest_mlflow_run(folder)
        if importlib.util.find_spec("hydra_plugins.hydra_joblib_launcher"):
            joblib = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
            figures["joblib2_per_job_s"] = wall([py, "-m", "runner", "-m", *overrides, *joblib], folder) / n
        if options.big:
            big = sweep_overrides(options.big)
            figures["big_jobs"] = 4 * len(LRS) * max(1, options.big // (4 * len(LRS)))
            figures["big_sweep_s"], figures["big_rss_early_mb"], figures["big_rss_peak_mb"] = sweep_memory(
                [py, "-m", "runner", "-m", *big], folder
            )
        figures["core_s"], figures["sklearn_s"], figures["core_epochs"] = core_versus_sklearn()

    floor = figures["hydra_per_job_s"] + figures["mlflow_run_s"]
    rows = [
        ("1. single run ÷ import floor", figures["single_run_s"], figures["import_floor_s"]),
        ("2. sweep per job ÷ (bare Hydra + smallest MLflow run)", figures["sweep_per_job_s"], floor),
        ("4. core ÷ scikit-learn (same epochs, same weights)", figures["core_s"], figures["sklearn_s"]),
    ]
    if "joblib2_per_job_s" in figures:
        rows.insert(
            2,
            (
                "3. sweep, joblib 2 workers ÷ basic launcher",
                figures["joblib2_per_job_s"],
                figures["sweep_per_job_s"],
            ),
        )
    print(f"{n}-job sweep; core: {figures['core_epochs']} epochs on 65,536 rows × 16 inputs")
    for label, ours, reference in rows:
        print(f"{label:<58} {ours / reference:6.2f}   ({ours:.4f} s vs {reference:.4f} s)")
    if "big_jobs" in figures:
        print(
            f"5. {figures['big_jobs']}-job sweep: {figures['big_sweep_s']:.1f} s; peak RSS "
            f"{figures['big_rss_early_mb']:.0f} MB over its first tenth, "
            f"{figures['big_rss_peak_mb']:.0f} MB in all"
        )
    print(
        f"   runner's own cost per sweep job beyond that floor: {figures['sweep_per_job_s'] - floor:.4f} s "
        f"({(figures['sweep_per_job_s'] - floor) / floor:.0%} of the floor)"
    )

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
    ).stdout.strip()
    record = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "commit": commit, **figures}
    new = not RESULTS.exists()
    with RESULTS.open("a", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="")
        if new:
            writer.writeheader()
        writer.writerow(record)
    print(f"appended to {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
