"""The Yoga peer (``bench/peer/server.mjs``) as a child process pinned to the server's core.

``make bench`` installs it (``bench/peer/install.sh``: Node from Debian when missing, npm packages
from the committed lockfile); without Node or its packages the bench runs without the peer and
says why.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.procs import cpu_seconds

HERE = Path(__file__).resolve().parent / "peer"
SCHEMA = HERE.parent.parent / "schema.graphql"
READY = "peer listening on "


class PeerUnavailable(RuntimeError):
    pass


@dataclass
class Peer:
    process: subprocess.Popen[str]
    url: str  # …/graphql

    @property
    def base_url(self) -> str:
        return self.url.removesuffix("/graphql")

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def missing() -> str | None:
    """Why the peer cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (bench/peer/install.sh installs it)"
    if not (HERE / "node_modules" / "graphql-yoga").is_dir():
        return "the peer's packages are not installed (bench/peer/install.sh)"
    return None


def start(snapshot: Path, core: int | None, *, timeout_s: float = 60) -> Peer:
    """Start the peer over ``snapshot`` (``bench.snapshot.export`` as JSON); wait until it listens."""
    reason = missing()
    if reason:
        raise PeerUnavailable(reason)

    def pin() -> None:
        if core is not None:
            os.sched_setaffinity(0, {core})

    process = subprocess.Popen(
        ["node", str(HERE / "server.mjs"), str(snapshot), str(SCHEMA), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        preexec_fn=pin,  # noqa: PLW1509 - only sched_setaffinity, no locks involved
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as sel:
        sel.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith(READY):
                return Peer(process, line[len(READY) :].strip())
    with contextlib.suppress(Exception):
        Peer(process, "").stop()
    raise PeerUnavailable(f"the peer did not start (exit code {process.poll()})")


def version() -> str | None:
    try:
        done = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
