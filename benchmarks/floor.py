"""MLflow's smallest complete run, the floor of a sweep job and of a single run.

    python benchmarks/floor.py STORE_URI [RUNS]

imports what every run of the runner needs (numpy, pandas, hydra, mlflow), then logs RUNS runs
(default 1) to experiment "floor": each created, given one param and one metric in one
log_batch, and ended. Prints the seconds per run of the loop, the process being warm.
"""

import sys
import time

import hydra  # noqa: F401  (the import floor of a run)
import numpy  # noqa: F401
import pandas  # noqa: F401
from mlflow import MlflowClient
from mlflow.entities import Metric, Param


def main() -> None:
    uri, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name("floor")
    experiment = found.experiment_id if found else client.create_experiment("floor")
    start = time.perf_counter()
    for _ in range(runs):
        run_id = client.create_run(experiment).info.run_id
        client.log_batch(run_id, metrics=[Metric("m", 1.0, 0, 0)], params=[Param("p", "1")])
        client.set_terminated(run_id, "FINISHED")
    print((time.perf_counter() - start) / runs)


if __name__ == "__main__":
    main()
