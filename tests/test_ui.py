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


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """A sweep in a fresh store, the MLflow UI over it, and a browser page; yields what they need."""
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
            printed = proc.stdout + single.stdout
            yield folder, printed.replace("127.0.0.1:5000", f"127.0.0.1:{port}"), page
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def printed_link(stdout: str, label: str) -> str:
    (link,) = re.findall(rf"^  {label}:\s+(\S+)$", stdout, re.M)
    return link


def children(folder: Path) -> list[str]:
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'outputs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("perceptron").experiment_id
    runs = client.search_runs([experiment], max_results=1000)
    return sorted(r.info.run_name for r in runs if MLFLOW_PARENT_RUN_ID in r.data.tags)


def screenshot(page, folder: Path, name: str) -> None:
    target = DOCS if os.environ.get("SAVE_SCREENSHOTS") == "1" else folder
    target.mkdir(exist_ok=True)
    page.screenshot(path=str(target / name))


def test_the_sweep_link_opens_its_runs_with_the_swept_params_and_results_as_columns(ui):
    folder, stdout, page = ui
    page.goto(printed_link(stdout, "the sweep"))
    names = children(folder)
    assert len(names) == 48
    page.get_by_text(names[-1], exact=True).first.wait_for(timeout=60_000)
    headers = [h.strip() for h in page.locator("[role=columnheader]").all_inner_texts()]
    for column in ("gate", "lr", "seed", "epochs", "converged", "updates", "stop_reason"):
        assert column in headers, headers
    assert headers.index("gate") < headers.index("lr") < headers.index("seed") < headers.index("epochs")
    listed = set(page.locator("body").inner_text().splitlines())
    assert set(names) <= listed, sorted(set(names) - listed)  # every child, with no click
    assert "Load more" not in listed
    screenshot(page, folder, "sweep-table.png")


def test_the_charts_link_opens_epochs_against_lr_by_gate(ui):
    folder, stdout, page = ui
    page.goto(printed_link(stdout, "its charts"))
    page.get_by_text("The sweep's answer").first.wait_for(timeout=60_000)
    for legend in ("or (epochs)", "and (epochs)", "nand (epochs)", "xor (epochs)"):
        # one line per gate, each point the mean over the seeds; drawn once their histories load
        page.get_by_text(legend, exact=True).first.wait_for(timeout=60_000)
    screenshot(page, folder, "sweep-charts.png")


def test_the_parent_run_page_shows_its_description(ui):
    folder, stdout, page = ui
    page.goto(printed_link(stdout, "its parent"))
    page.get_by_text("Each cell is one gate × lr setting").first.wait_for(timeout=60_000)
    screenshot(page, folder, "sweep-parent.png")


def test_the_sweeps_views_are_in_the_views_menu_by_name_and_open_from_it(ui):
    """MLflow's named saved views (3.15 and later): the sweep's two views are listed by its name."""
    folder, stdout, page = ui
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'outputs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("perceptron").experiment_id
    (parent,) = client.search_runs([experiment], "tags.`sweep.dir` LIKE '%'")
    name = parent.info.run_name
    base = printed_link(stdout, "its parent").split("/#/")[0]
    page.goto(f"{base}/#/experiments/{experiment}/runs?workflowType=machine_learning")
    trigger = page.locator('[data-component-id="mlflow.experiment_page.saved_views.trigger"]')
    trigger.first.click(timeout=60_000)
    menu = page.locator("[role=menu], [role=listbox], [role=dialog]").filter(has_text="Saved views").first
    menu.get_by_text(f"{name}: charts", exact=True).wait_for(timeout=60_000)
    menu.get_by_text(name, exact=True).click()
    page.get_by_text(children(folder)[-1], exact=True).first.wait_for(timeout=60_000)  # its runs, open


def test_the_runs_table_shows_each_runs_gate_as_its_dataset(ui):
    folder, stdout, page = ui
    page.goto(printed_link(stdout, "the sweep"))
    page.get_by_text(children(folder)[-1], exact=True).first.wait_for(timeout=60_000)
    headers = [h.strip() for h in page.locator("[role=columnheader]").all_inner_texts()]
    assert "Dataset" in headers, headers
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'outputs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("perceptron").experiment_id
    (xor,) = client.search_runs([experiment], "attributes.run_name = 'xor lr=1 seed=0'")
    digest = xor.inputs.dataset_inputs[0].dataset.digest
    page.get_by_text(f"xor ({digest})").first.wait_for(timeout=60_000)
    screenshot(page, folder, "sweep-datasets.png")


def test_a_single_runs_page_steps_through_its_epochs(ui):
    """The run's images, one per epoch, in an image chart with MLflow's step slider: the start
    (step 0) and the two epochs of the README's OR run."""
    folder, stdout, page = ui
    page.goto(printed_link(stdout, "this run"))
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
    screenshot(page, folder, "run-epochs.png")
