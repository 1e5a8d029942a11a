"""The core count faked for a whole test run, subprocesses included, to check that the tests
hold on a machine with any number of cores:

    FAKE_CPU_COUNT=1 PYTHONPATH=tests/fake_cores .venv/bin/python -m pytest -m "not scale" -n 2

(Python imports the first sitecustomize on its path at start-up; the variables reach every
subprocess a test starts.)"""

import os

if os.environ.get("FAKE_CPU_COUNT"):
    os.cpu_count = lambda: int(os.environ["FAKE_CPU_COUNT"])
