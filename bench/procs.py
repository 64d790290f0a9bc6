"""Child processes for servers, pinned to their own core, and their CPU time read from ``/proc``.

A child runs ``target(spec, conn)``: it starts its servers, sends one message back (its URLs),
and serves until the parent sends ``"stop"`` on the pipe (or dies).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def layout() -> tuple[int | None, int | None]:
    """``(server core, client core)``; None when there is a single core (no pinning)."""
    available = cores()
    if len(available) < 2:
        return None, None
    return available[0], available[1]


def pin(core: int | None) -> None:
    if core is not None:
        os.sched_setaffinity(0, {core})


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of ``pid`` so far (``/proc/<pid>/stat`` fields 14 and 15)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Child:
    process: mp.process.BaseProcess
    conn: Connection
    hello: Any  # what the child sent once its servers were up

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def ask(self, message: Any, timeout_s: float = 600) -> Any:
        self.conn.send(message)
        if not self.conn.poll(timeout_s):
            raise TimeoutError(f"child {self.pid} did not answer {message!r}")
        answer = self.conn.recv()
        if isinstance(answer, BaseException):
            raise RuntimeError(f"child {self.pid} failed to answer {message!r}") from answer
        return answer

    def stop(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send("stop")
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def spawn(target: Callable[[Any, Connection], None], spec: Any, *, timeout_s: float = 300) -> Child:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=target, args=(spec, child), daemon=True)
    process.start()
    child.close()
    if not parent.poll(timeout_s):
        process.kill()
        raise TimeoutError(f"{getattr(target, '__name__', target)} did not start in {timeout_s}s")
    hello = parent.recv()
    if isinstance(hello, BaseException):
        process.join(5)
        raise RuntimeError(f"{getattr(target, '__name__', target)} failed to start") from hello
    return Child(process, parent, hello)
