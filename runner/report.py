"""`python -m runner.report`: a sweep's results, read back from MLflow, as tables in the terminal.

    python -m runner.report                       the latest sweep in the experiment `perceptron`
    python -m runner.report --parent RUN_ID       a given sweep (its parent run's id)
    python -m runner.report --csv DIR --markdown FILE

A grid sweep's cells, pivoted on what it varied (the mean epochs ± sd over the seeds, the share
that converged, the runs per cell), and which setting mattered (each axis's share of the spread of
epochs, η²); a search's trials, best first. The comparison without a
browser. It only reads: a store that is not there is an error, never created.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from runner import pivots
from runner.axes import SEED, layout
from runner.names import SUMMARY_COLUMNS
from runner.tracking.errors import UsageError
from runner.tracking.names import FINISHED


def main(argv: list[str] | None = None) -> None:
    from runner.config import compose
    from runner.tracking import readback

    defaults = compose().mlflow  # the app's store and experiment, as conf/ sets them
    parser = argparse.ArgumentParser(prog="python -m runner.report", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tracking-uri",
        default=defaults.tracking_uri,
        help=f"the MLflow store (default: the app's, {defaults.tracking_uri})",
    )
    parser.add_argument(
        "--experiment",
        default=defaults.experiment_name,
        help=f"the MLflow experiment (default: the app's, {defaults.experiment_name})",
    )
    parser.add_argument("--parent", help="the sweep's parent run id (default: the latest sweep)")
    parser.add_argument(
        "--csv",
        type=Path,
        metavar="DIR",
        help="also write the tables and the summary as DIR/*.csv, as the sweep's parent names them",
    )
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the tables to FILE")
    args = parser.parse_args(argv)

    try:
        sweep, summary = readback.read_sweep(
            args.tracking_uri, Path.cwd(), args.experiment, args.parent, SUMMARY_COLUMNS
        )
    except UsageError as err:
        raise SystemExit(str(err)) from None

    finished = int((summary["status"] == FINISHED).sum())
    state = f"{len(summary)} runs, {finished} finished"
    if sweep.planned and finished < sweep.planned:
        state += f"; incomplete: {finished} of {sweep.planned} planned jobs finished"
    print(f"{sweep.name} (parent run {sweep.run_id}, {sweep.status}): {state}\n")
    keys = [a.key for a in sweep.axes if a.key != SEED]
    if sweep.search:
        ranked = pivots.best_first(summary, keys)
        print(f"best trials first\n{ranked.head(pivots.BEST_SHOWN).to_string(index=False)}\n")
        text = f"# {sweep.name}: best trials first\n\n{pivots.markdown_table(ranked, index=False)}\n"
    else:
        shape = layout(sweep.axes)
        tables = pivots.pivots(summary, shape)
        shares = pivots.importance(summary, shape.cell_keys)
        answer = pivots.answer(pivots.mean_epochs(summary, shape), tables[pivots.CONVERGED], shape)
        learned = shape.cell_keys and not pivots.converged(summary).empty
        said = [answer, pivots.importance_sentence(shares) if learned else ""]
        mattered = "".join(f"{line}\n" for line in said if line) + ("\n" if any(said) else "")
        print(mattered + pivots.text(tables, shape))
        text = f"# {sweep.name}\n\n{mattered}{pivots.markdown(tables, shape)}"
    try:
        if args.csv:
            args.csv.mkdir(parents=True, exist_ok=True)
            summary.to_csv(args.csv / "summary.csv", index=False)
            if sweep.search:  # named as the sweep's parent names its files (runner/review.py)
                ranked.to_csv(args.csv / "best_trials.csv", index=False)
            else:
                pivots.write_csv(tables, args.csv)
        if args.markdown:
            args.markdown.write_text(text)
    except OSError as err:  # a folder that is a file, one that is not there, no permission
        raise SystemExit(
            f"Cannot write the report to {err.filename or args.csv or args.markdown}: {err.strerror}"
        ) from None


if __name__ == "__main__":
    from runner.tracking import signals

    signals.install()  # a Ctrl-C says "Interrupted (SIGINT)", with no traceback
    main(sys.argv[1:])
