"""What a user sees: the links a sweep prints, opened in the real MLflow UI in headless Chromium.

A real sweep logs to a fresh store, `mlflow ui` serves it on loopback, and Debian's Chromium,
driven by Playwright (with the system browser: nothing is downloaded), opens the printed links.
SAVE_SCREENSHOTS=1 writes the screenshots to docs/ (the README shows them); otherwise they go to
the test's folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from conftest import run_cli
from mlflow import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from services import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.scale]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DOCS = Path(__file__).resolve().parent.parent / "docs"
SWEEP = ["-m", "gate=or,and,nand,xor", "lr=0.1,0.5,1,2", "seed=0,1,2"]  # 48 jobs, as sweep=grid
CHROMIUM_FLAGS = [  # no network beyond loopback here: nothing in the background may reach out
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]


class Ui(NamedTuple):
    folder: Path
    printed: str  # what the grid sweep and the single run printed, its links to this UI
    page: Any  # Playwright's page, in Chromium
    presets: dict[str, str]  # what sweep=textbook and sweep=optuna printed, by preset


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """Sweeps in a fresh store, the MLflow UI over it, and a browser page: a Ui."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("ui")
    proc = run_cli(*SWEEP, "plots=false", cwd=folder, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    single = run_cli(
        "gate=or", "lr=1", "init.weights=[0,0]", "init.bias=0", cwd=folder
    )  # its epochs as images
    assert single.returncode == 0, single.stderr[-3000:]
    presets = {}
    for preset in ("textbook", "optuna"):  # 18 jobs, 20 trials
        done = run_cli("-m", f"sweep={preset}", "plots=false", cwd=folder, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        presets[preset] = done.stdout
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "ui",
            "--backend-store-uri",
            "sqlite:///outputs/mlflow.db",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", server, seconds=120)
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            local = f"127.0.0.1:{port}"
            printed = (proc.stdout + single.stdout).replace("127.0.0.1:5000", local)
            yield Ui(
                folder, printed, page, {k: v.replace("127.0.0.1:5000", local) for k, v in presets.items()}
            )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def printed_link(stdout: str, label: str) -> str:
    (link,) = re.findall(rf"^  {label}:\s+(\S+)$", stdout, re.M)
    return link


def parent_of(stdout: str) -> str:
    """The run id of the sweep's parent whose links `stdout` printed."""
    return re.search(r"/runs/(\w+)\?", printed_link(stdout, "its parent")).group(1)


def children(folder: Path, stdout: str) -> list[str]:
    """The names of the runs under the sweep whose links `stdout` printed."""
    parent = parent_of(stdout)
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'outputs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("perceptron").experiment_id
    runs = client.search_runs([experiment], f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent}'", max_results=1000)
    return sorted(r.info.run_name for r in runs)


def screenshot(page, folder: Path, name: str) -> None:
    target = DOCS if os.environ.get("SAVE_SCREENSHOTS") == "1" else folder
    target.mkdir(exist_ok=True)
    page.screenshot(path=str(target / name))


def open_at(page, size: tuple[int, int], url: str) -> None:
    """The link opened anew in a window of `size` (the same link again would not reload)."""
    page.goto("about:blank")
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(url)


# A laptop's window and a larger one, with MLflow's side panels as they open (the assistant's
# panel on the right takes a fifth of the width)
SIZES = [(1440, 900), (1800, 1200)]


def fully_in_view(page, locator) -> bool:
    """Whether the element is drawn whole within the window and within the box that clips it
    (a chart's legend, the runs table): nothing of it behind a scroll."""
    return page.evaluate(
        """(e) => {
            const r = e.getBoundingClientRect();
            if (r.width === 0 || r.right > innerWidth || r.bottom > innerHeight) return false;
            for (let p = e.parentElement; p; p = p.parentElement) {
                const s = getComputedStyle(p);
                const clips = [s.overflow, s.overflowX, s.overflowY].some((o) => o !== 'visible');
                if (!clips) continue;
                const b = p.getBoundingClientRect();
                const out = r.left < b.left - 1 || r.right > b.right + 1;
                if (out || r.top < b.top - 1 || r.bottom > b.bottom + 1) return false;
            }
            return true;
        }""",
        locator.element_handle(),
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_runs_link_opens_its_runs_results_and_stop_reason_in_view(ui, size):
    folder, stdout, page, _ = ui
    open_at(page, size, printed_link(stdout, "its runs"))
    names = children(folder, stdout)
    assert len(names) == 48
    page.get_by_text(names[0], exact=True).first.wait_for(timeout=60_000)
    headers = [h.strip() for h in page.locator("[role=columnheader]").all_inner_texts()]
    for column in ("epochs", "converged", "updates", "stop_reason", "gate", "lr", "seed"):
        assert column in headers, headers
    left = {
        c: page.locator("[role=columnheader]").filter(has_text=c).first.bounding_box()["x"] for c in headers
    }
    assert left["epochs"] < left["stop_reason"] < left["gate"] < left["lr"]  # what it gave, then what was set
    for column in ("epochs", "converged", "updates", "stop_reason"):  # no sideways scrolling
        header = page.locator("[role=columnheader]").filter(has_text=column).first
        assert fully_in_view(page, header), column
    # the sweep's runs counted alone: no parent fetched beside them
    page.get_by_text("48 matching runs").first.wait_for(timeout=60_000)
    screenshot(page, folder, f"sweep-table-{size[0]}.png")
    page.locator(".ag-body-viewport").first.evaluate("e => e.scrollTo(0, e.scrollHeight)")
    page.wait_for_timeout(1000)
    listed = set(page.locator("body").inner_text().splitlines())
    assert "Load more" not in listed
    assert names[-1] in listed  # every child, with no click: the last one at the bottom


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_charts_link_names_every_gates_line_of_epochs_against_lr(ui, size):
    folder, stdout, page, _ = ui
    open_at(page, size, printed_link(stdout, "its charts"))
    page.get_by_text("The sweep's answer (mean over seed)").first.wait_for(timeout=60_000)
    for legend in ("or (epochs_to_converge)", "and (epochs_to_converge)", "nand (epochs_to_converge)"):
        # one line per gate, each point the mean over a cell's seeds that converged (xor: none),
        # drawn once their histories load
        entry = page.get_by_text(legend, exact=True).first
        entry.wait_for(timeout=60_000)
        assert fully_in_view(page, entry), legend
    assert page.get_by_text("Unassigned").count() == 0  # no group for the parent run
    screenshot(page, folder, f"sweep-charts-{size[0]}.png")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_textbook_charts_name_each_rule_and_activation(ui, size):
    folder, _, page, presets = ui
    open_at(page, size, printed_link(presets["textbook"], "its charts"))
    page.get_by_text("The sweep's answer (mean over gate)").first.wait_for(timeout=60_000)
    for rule in ("perceptron", "hebb", "adaline"):
        for activation in ("step", "band"):
            if (rule, activation) == ("hebb", "band"):  # none of its runs converged: no bar at all
                continue
            entry = page.get_by_text(f"activation: {activation}, rule: {rule}", exact=True).first
            entry.wait_for(timeout=60_000)
            assert fully_in_view(page, entry), (rule, activation)
    assert page.get_by_text("activation: band, rule: hebb", exact=True).count() == 0
    assert page.get_by_text("rule vs. epochs").count() == 0  # no empty scatter of a category
    screenshot(page, folder, f"textbook-charts-{size[0]}.png")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_optuna_charts_plot_each_trial_against_each_searched_value(ui, size):
    folder, _, page, presets = ui
    open_at(page, size, printed_link(presets["optuna"], "its charts"))
    for title in ("lr vs. epochs_to_converge", "init.low vs. epochs_to_converge"):
        page.get_by_text(title, exact=True).first.wait_for(timeout=60_000)
    assert page.get_by_text("Group: ").count() == 0  # each trial a run of its own
    screenshot(page, folder, f"optuna-charts-{size[0]}.png")


def test_the_parent_run_page_shows_its_description(ui):
    """At 1800×1200 MLflow lays the run page out in two columns, the description first; in a
    narrower window it stacks the run's details above it."""
    folder, stdout, page, _ = ui
    open_at(page, (1800, 1200), printed_link(stdout, "its parent"))
    page.get_by_text("Each cell is one gate × lr setting").first.wait_for(timeout=60_000)
    headline = page.get_by_text("48 of 48 runs finished").first  # the first lines: the answer
    assert fully_in_view(page, headline)
    screenshot(page, folder, "sweep-parent.png")


def test_the_sweeps_views_are_in_the_views_menu_by_name_and_open_from_it(ui):
    """MLflow's named saved views (3.15 and later): the sweep's two views are listed by its name."""
    folder, stdout, page, _ = ui
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'outputs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("perceptron").experiment_id
    name = client.get_run(parent_of(stdout)).info.run_name
    base = printed_link(stdout, "its parent").split("/#/")[0]
    page.goto(f"{base}/#/experiments/{experiment}/runs?workflowType=machine_learning")
    trigger = page.locator('[data-component-id="mlflow.experiment_page.saved_views.trigger"]')
    trigger.first.click(timeout=60_000)
    menu = page.locator("[role=menu], [role=listbox], [role=dialog]").filter(has_text="Saved views").first
    menu.get_by_text(f"{name}: charts", exact=True).wait_for(timeout=60_000)
    menu.get_by_text(name, exact=True).click()
    page.get_by_text(children(folder, stdout)[-1], exact=True).first.wait_for(
        timeout=60_000
    )  # its runs, open


def test_the_runs_table_shows_each_runs_gate_as_its_dataset(ui):
    folder, stdout, page, _ = ui
    page.goto(printed_link(stdout, "its runs"))
    page.get_by_text(children(folder, stdout)[-1], exact=True).first.wait_for(timeout=60_000)
    headers = [h.strip() for h in page.locator("[role=columnheader]").all_inner_texts()]
    assert "Dataset" in headers, headers
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'outputs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("perceptron").experiment_id
    (xor,) = client.search_runs([experiment], "attributes.run_name = 'xor lr=1 seed=0'")
    digest = xor.inputs.dataset_inputs[0].dataset.digest
    page.get_by_text(f"xor ({digest})").first.wait_for(timeout=60_000)
    page.screenshot(path=str(folder / "sweep-datasets.png"))  # not one of the README's pictures


def test_a_single_runs_mlflow_page_steps_through_its_epochs(ui):
    """The run's images, one per epoch, in an image chart with MLflow's step slider: the start
    (step 0) and the two epochs of the README's OR run."""
    folder, stdout, page, _ = ui
    page.goto(printed_link(stdout, "its run"))
    page.get_by_role("tab", name="Model metrics").first.click(timeout=60_000)
    page.get_by_text("epochs", exact=True).first.wait_for(timeout=60_000)
    card = page.get_by_text("decision_line", exact=True).first
    for _ in range(20):  # the charts are drawn as they scroll into view
        if card.is_visible():
            break
        page.mouse.move(600, 600)
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(300)
    card.wait_for(timeout=60_000)
    slider = page.locator("[role=slider]").first
    slider.wait_for(timeout=60_000)
    assert (slider.get_attribute("aria-valuemin"), slider.get_attribute("aria-valuemax")) == ("0", "2")
    page.screenshot(path=str(folder / "run-epochs.png"))  # not one of the README's pictures


def page_frame(page):
    """The frame MLflow shows an HTML artifact in (sandboxed: scripts on, no same origin)."""
    frame = page.frame_locator("iframe").first
    frame.locator("h1").first.wait_for(timeout=60_000)
    return frame, page.locator("iframe").first


def in_view(page, iframe, locator) -> bool:
    """Whether the element inside the page's frame is drawn whole within the window and the frame:
    no scroll needed to read it."""
    box, outer = locator.bounding_box(), iframe.bounding_box()
    size = page.viewport_size
    across = box["x"] >= outer["x"] - 1 and box["x"] + box["width"] <= outer["x"] + outer["width"] + 1
    down = box["y"] >= outer["y"] - 1 and box["y"] + box["height"] <= outer["y"] + outer["height"] + 1
    window = box["x"] + box["width"] <= size["width"] and box["y"] + box["height"] <= size["height"]
    return across and down and window


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_sweep_link_opens_its_page_the_answer_and_every_pivot_row_in_view(ui, size):
    folder, stdout, page, _ = ui
    link = printed_link(stdout, "the sweep")
    assert f"/runs/{parent_of(stdout)}/artifacts/sweep.html?" in link
    open_at(page, size, link)
    frame, iframe = page_frame(page)
    answer = frame.locator("p.answer")
    assert (
        answer.inner_text()
        == "lr=1 and lr=2 tie as fastest for every gate that converges; xor never converges."
    )
    assert in_view(page, iframe, answer)
    rows = frame.locator("table").first.locator("tbody tr")
    assert [r.locator("td").first.inner_text() for r in rows.all()] == ["or", "and", "nand", "xor"]
    for row in rows.all():
        assert in_view(page, iframe, row), row.inner_text()
    xor = rows.nth(3).locator("td")
    assert xor.nth(1).inner_text().split() == ["—", "never", "converged"]
    assert "background" not in (xor.nth(1).get_attribute("style") or "")  # never coloured as fast
    screenshot(page, folder, f"sweep-page-{size[0]}.png")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_run_link_opens_its_page_stepped_by_the_arrow_keys(ui, size):
    folder, stdout, page, _ = ui
    open_at(page, size, printed_link(stdout, "this run"))
    frame, iframe = page_frame(page)
    shown = frame.locator("#shown")
    assert shown.inner_text() == "the initial weights"
    picture = frame.locator(".step.current svg")
    assert picture.bounding_box()["width"] >= (
        340 if size[0] < 1800 else 400
    )  # the Artifacts tab: 625 px at 1440
    frame.locator("h1").first.click()  # the frame takes the keys once clicked, as a person would
    page.keyboard.press("ArrowRight")
    assert shown.inner_text() == "epoch 1 of 2"
    assert frame.locator(".step.current li").count() == 4  # a sentence per row of epoch 1
    assert frame.locator(".step.current svg").get_attribute("aria-label") == "W = (1, 1), b = 1"
    drawn, said = picture.bounding_box(), frame.locator(".step.current li").first.bounding_box()
    assert said["x"] >= drawn["x"] + drawn["width"] and said["y"] < drawn["y"] + drawn["height"], (
        iframe.bounding_box(),
        frame.locator(".step.current").bounding_box(),
    )  # beside it
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # past the last epoch: stays there
    assert shown.inner_text() == "epoch 2 of 2"
    page.keyboard.press("ArrowLeft")
    assert shown.inner_text() == "epoch 1 of 2"
    screenshot(page, folder, f"run-page-{size[0]}.png")


def test_the_pages_as_files_ask_for_nothing_outside_themselves(ui):
    """Opened from the run's folder with no server: every request a page makes is itself."""
    folder, stdout, page, _ = ui
    sweep = folder / "outputs" / "mlartifacts" / parent_of(stdout) / "artifacts" / "sweep.html"
    (run,) = (folder / "outputs" / "runs").glob("*/*/run.html")
    asked: list[str] = []

    def ask(request) -> None:
        asked.append(request.url)

    page.on("request", ask)
    try:
        for path in (sweep, run):
            page.goto(path.as_uri())
            page.locator("h1").first.wait_for(timeout=60_000)
            page.wait_for_timeout(500)
    finally:
        page.remove_listener("request", ask)
    assert {url for url in asked if not url.startswith("data:")} == {sweep.as_uri(), run.as_uri()}


def test_the_run_page_reads_with_scripts_off(ui):
    """In a viewer that blocks scripts every epoch is shown, one under the other, and no button
    that would do nothing."""
    folder, _, page, _ = ui
    (run,) = (folder / "outputs" / "runs").glob("*/*/run.html")
    context = page.context.browser.new_context(java_script_enabled=False)
    try:
        plain = context.new_page()
        plain.goto(run.as_uri())
        steps = plain.locator(".step")
        assert steps.count() == 3 and all(step.is_visible() for step in steps.all())
        assert not plain.locator(".controls").is_visible()
    finally:
        context.close()
