"""`python -m runner.report`: a sweep's results, read back from MLflow, as tables in the terminal.

    python -m runner.report                       the latest sweep in the experiment `perceptron`
    python -m runner.report --parent RUN_ID       a given sweep (its parent run's id)
    python -m runner.report --csv DIR --markdown FILE

For each gate and learning rate, over the sweep's seeds: the mean number of epochs with its
standard deviation, and the share of runs that converged. The comparison without a browser.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from runner import tracking
from runner.pivots import markdown, pivots, write_csv

DEFAULT_STORE = "sqlite:///outputs/mlflow.db"

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m runner.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_STORE),
                        help=f"the MLflow store (default: $MLFLOW_TRACKING_URI, else {DEFAULT_STORE})")
    parser.add_argument("--experiment", default="perceptron", help="the MLflow experiment (default: perceptron)")
    parser.add_argument("--parent", help="the sweep's parent run id (default: the latest sweep)")
    parser.add_argument("--csv", type=Path, metavar="DIR",
                        help="also write each table, and the sweep's summary, as DIR/<table>.csv")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the tables to FILE")
    args = parser.parse_args(argv)

    uri = tracking.absolute(args.tracking_uri, Path.cwd())
    try:
        experiment, parent, name = tracking.find_sweep(uri, args.experiment, args.parent)
        summary = tracking.sweep_summary(uri, experiment, parent)
    except tracking.UsageError as err:
        raise SystemExit(str(err)) from None
    tables = pivots(summary)

    print(f"{name} (parent run {parent}): {len(summary)} runs, "
          f"{int((summary['status'] == 'FINISHED').sum())} finished\n")
    for title, table in tables.items():
        print(f"{title}\n{table.to_string()}\n")
    if args.csv:
        args.csv.mkdir(parents=True, exist_ok=True)
        summary.to_csv(args.csv / "summary.csv", index=False)
        write_csv(tables, args.csv)
    if args.markdown:
        args.markdown.write_text(markdown(name, tables))

if __name__ == "__main__":
    main(sys.argv[1:])
