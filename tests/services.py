"""The real servers the scale tests and the benchmark start on this machine: `mlflow server` and
PostgreSQL, each on a free loopback port, each gone when its block ends."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


class Server:
    """`mlflow server` on a port of its own, in its own process group (the CLI starts its
    workers as children: the whole group is what goes away and comes back)."""

    def __init__(self, folder: Path, backend_uri: str | None = None) -> None:
        self.folder, self.port = folder, free_port()
        self.backend_uri = backend_uri or f"sqlite:///{folder}/server.db"
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(self.port)),
                *("--backend-store-uri", self.backend_uri),
                *("--artifacts-destination", str(self.folder / "served"), "--workers", "2"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(self.url + "/health", self.process, seconds=90)

    def signal(self, number: int) -> None:
        os.killpg(self.process.pid, number)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Gone, whatever it was doing (stopped with SIGSTOP too)."""
        with contextlib.suppress(ProcessLookupError):
            self.signal(signal.SIGCONT)
            self.kill()


@contextlib.contextmanager
def mlflow_server(folder: Path, backend_uri: str | None = None) -> Iterator[Server]:
    started = Server(folder, backend_uri)
    started.start()
    try:
        yield started
    finally:
        started.stop()


def postgres_binaries() -> Path | None:
    """The folder of the system's initdb, pg_ctl and createdb, or None."""
    initdb = shutil.which("initdb") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None
    )
    return Path(initdb).resolve().parent if initdb else None


@contextlib.contextmanager
def postgres(bin_dir: Path) -> Iterator[str]:
    """A PostgreSQL server of its own, on loopback, with a database `mlflow`; yields its URI."""
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # it refuses root
    data = Path(tempfile.mkdtemp(prefix="pg-"))
    if as_user:
        shutil.chown(data, "postgres")
    port = free_port()

    def run(tool: str, *args: str, check: bool = True) -> None:
        subprocess.run([*as_user, str(bin_dir / tool), *args], check=check, capture_output=True)

    run("initdb", "-D", str(data / "db"), "-U", "postgres", "--auth=trust")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    run("pg_ctl", "-D", str(data / "db"), "-w", "-l", str(data / "log"), "-o", options, "start")
    try:
        run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "mlflow")
        yield f"postgresql://postgres@127.0.0.1:{port}/mlflow"
    finally:
        run("pg_ctl", "-D", str(data / "db"), "-m", "fast", "stop", check=False)
        shutil.rmtree(data, ignore_errors=True)
