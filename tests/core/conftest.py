"""Real services on loopback shared by the core and deploy tests."""

from __future__ import annotations

import shutil
import socket
import subprocess

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server on 127.0.0.1; the fixture value is a callable that stops it."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: `apt-get install redis-server` (.ci/run installs it)"
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            tmp_path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:  # the server says when it accepts connections
        if "Ready to accept connections" in line:
            break
    else:
        raise AssertionError("redis-server did not start")

    def stop():
        proc.terminate()
        proc.wait(timeout=10)

    stop.url = f"redis://127.0.0.1:{port}/0"
    yield stop
    if proc.poll() is None:
        stop()
