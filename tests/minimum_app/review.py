"""The app's review of a sweep: where f is least, as a file, a metric and a line."""

from omegaconf import DictConfig

from runner.tracking.names import FINISHED, Columns
from runner.tracking.sweep_app import ClosedSweep, Reviewed


class MinimumSweeps:
    columns = Columns(params=("a",), metrics=("f",))
    shown_only = ("pause",)

    def start(self, config: DictConfig) -> None:
        pass

    def review(self, sweep: ClosedSweep) -> Reviewed:
        done = sweep.summary[sweep.summary["status"] == FINISHED]
        if done.empty:
            return Reviewed(outcome="no run finished")
        best = done.loc[done["f"].astype(float).idxmin()]
        answer = f"The minimum: f = {best['f']} at x = {best['x']}"
        page = sweep.dir / "minimum.html"
        page.write_text(f"<!doctype html><title>{sweep.name}</title><h1>{answer}</h1>", encoding="utf-8")
        return Reviewed(
            files=[page],
            metrics={"min_f": float(best["f"])},
            tags={"best": f"x={best['x']}"},
            outcome=f"{len(done)} of {len(sweep.summary)} runs finished",
            lines=[answer],
        )
