"""Starting and stopping Beam's local job service and SDK worker pool in tests.

The PortableRunner against ``local_job_service_main`` and ``worker_pool_main``
is the Fn API path that Flink, Spark and Dataflow use, and runs offline:
tests/pipelines/test_runners.py and test_worker_environment.py start them
with these helpers, so a service that dies or never listens fails the test
with its log instead of hanging it.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

START_TIMEOUT_S = 60


def free_port() -> int:
    """A TCP port nothing listens on now (the service binds it next)."""
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    """Return once ``port`` accepts connections; fail with the log if the process exits or stalls."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"service exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("localhost", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(
        f"service did not listen on port {port} within {START_TIMEOUT_S} s:\n{log.read_text()[-2000:]}"
    )


def stop(process: subprocess.Popen) -> None:
    """Terminate, then kill after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
