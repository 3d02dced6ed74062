"""Run the Procfile's processes and keep them running (`make run`).

    python -m core.runner [PROCESS ...]

Every process is restarted when it exits, after a backoff (1 s, doubling up to 30 s, back to
1 s once it had run for a minute), unless the runner itself is stopping: Ctrl-C or SIGTERM
sends SIGTERM to every process group and SIGKILL to what is left after STOP_GRACE_S.

Each process runs in its own session (process group). Its death is seen by waiting on the
process itself, not by the end of its output: children it leaves behind (a django-q2 cluster's
sentinel and workers) hold the pipe open. Before a restart the whole group is killed, so those
orphans never run twice. The Procfile's lines `exec` their program, so the process the runner
waits on is the program itself (and its pid is the one in a worker's heartbeat row).

A restarted process gets INKSTONE_RESTARTS (how many times it was restarted) and
INKSTONE_RESTARTED_AT (when), which worker clusters keep in their heartbeat for /healthz. When a
process dies its heartbeat row is removed at once, so /healthz reports that cluster down until
the new process beats.

An essential process (web, redis) that keeps failing right after it starts (GIVE_UP_AFTER
times in a row, each within QUICK_EXIT_S) cannot start at all, e.g. its port is taken: the run
stops with a message saying so instead of looping. Worker clusters keep being restarted (at
most every 30 s); the site serves meanwhile and /healthz reports them down.

honcho parses the Procfile and prints the output; the supervision loop is ours.
"""

from __future__ import annotations

import datetime
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from honcho.colour import get_colours
from honcho.environ import expand_processes, parse_procfile
from honcho.printer import Message, Printer

ESSENTIAL = {"web", "redis"}
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
HEALTHY_AFTER_S = 60.0  # a process that ran this long starts over at the first backoff
QUICK_EXIT_S = 10.0
GIVE_UP_AFTER = 5
STOP_GRACE_S = 5.0
POLL_S = 0.1


def describe_exit(returncode: int) -> str:
    """'SIGKILL' for a signal, 'exit code 1' otherwise (Popen gives -signum for a signal)."""
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


@dataclass
class Child:
    """One Procfile process and its restarts."""

    name: str  # honcho's "<type>.<n>", e.g. "generation.1"
    cmd: str
    env: dict
    colour: str | None = None
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    delay: float = BACKOFF_FIRST_S
    start_due: float | None = 0.0  # monotonic time of the next start; None while running
    quick_exits: deque = field(default_factory=lambda: deque(maxlen=GIVE_UP_AFTER))
    last_lines: deque = field(default_factory=lambda: deque(maxlen=5))
    reader: threading.Thread | None = None

    @property
    def kind(self) -> str:
        return self.name.rsplit(".", 1)[0]

    @property
    def running(self) -> bool:
        return self.popen is not None


class Supervisor:
    def __init__(self, children: list[Child], printer: Printer, *, forget=None):
        self.children = children
        self.printer = printer
        self.lines: queue.Queue[tuple[Child, bytes]] = queue.Queue()
        self.stopping = threading.Event()
        self.signal_received: int | None = None
        self.returncode = 0
        self.forget = forget  # called with the pid of a process that died (its heartbeat row goes)
        self.forgetting: list[threading.Thread] = []

    # --- output --------------------------------------------------------------------------
    def say(self, text: str, name: str = "system", colour=None) -> None:
        self.printer.write(Message("line", text, datetime.datetime.now(), name, colour))

    def _read(self, child: Child, stream) -> None:
        for line in iter(stream.readline, b""):
            self.lines.put((child, line))
        stream.close()

    def _print_lines(self, timeout: float) -> None:
        try:
            child, line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            child.last_lines.append(line.decode("utf-8", "replace").rstrip())
            self.printer.write(Message("line", line, datetime.datetime.now(), child.name, child.colour))
            try:
                child, line = self.lines.get_nowait()
            except queue.Empty:
                return

    # --- processes -----------------------------------------------------------------------
    def start(self, child: Child) -> None:
        env = dict(child.env)
        if child.restarts:
            env["INKSTONE_RESTARTS"] = str(child.restarts)
            env["INKSTONE_RESTARTED_AT"] = datetime.datetime.now(datetime.UTC).isoformat()
        child.popen = subprocess.Popen(
            child.cmd, shell=True, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        child.started_at, child.start_due = time.monotonic(), None
        child.reader = threading.Thread(target=self._read, args=(child, child.popen.stdout), daemon=True)
        child.reader.start()
        self.say(f"{child.name} started (pid={child.popen.pid})")

    @staticmethod
    def kill_group(child: Child, signum: int) -> None:
        try:
            os.killpg(child.popen.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def reap(self, child: Child) -> None:
        """The process died: kill what it left behind and schedule the restart (or give up)."""
        returncode = child.popen.returncode
        self.kill_group(child, signal.SIGKILL)
        pid, child.popen = child.popen.pid, None
        if self.forget is not None:
            thread = threading.Thread(target=self.forget, args=(pid,), daemon=True)
            thread.start()
            self.forgetting = [t for t in self.forgetting if t.is_alive()] + [thread]
        if self.stopping.is_set():
            self.say(f"{child.name} stopped ({describe_exit(returncode)})")
            return
        ran = time.monotonic() - child.started_at
        if ran >= HEALTHY_AFTER_S:
            child.delay = BACKOFF_FIRST_S
            child.quick_exits.clear()
        elif ran < QUICK_EXIT_S:
            child.quick_exits.append(ran)
        else:
            child.quick_exits.clear()
        if child.kind in ESSENTIAL and len(child.quick_exits) >= GIVE_UP_AFTER:
            child.reader.join(1)  # its last words (the reason) may still be in the pipe
            self._print_lines(0)
            output = "\n".join(f"    {line}" for line in child.last_lines)
            self.say(
                f"{child.name} cannot start: it exited {GIVE_UP_AFTER} times in a row within "
                f"{QUICK_EXIT_S:.0f} s of starting (last: {describe_exit(returncode)}). Stopping "
                f"everything. Its last output:\n{output}"
            )
            self.returncode = 1
            self.stop()
            return
        child.restarts += 1
        self.say(
            f"{child.name} exited ({describe_exit(returncode)}); restarting in {child.delay:g} s, "
            f"restart #{child.restarts}"
        )
        child.start_due = time.monotonic() + child.delay
        child.delay = min(child.delay * 2, BACKOFF_MAX_S)

    def stop(self) -> None:
        self.stopping.set()

    def _on_signal(self, signum, _frame) -> None:
        """Only flags: the loop does the work (printing here could re-enter a print)."""
        if self.signal_received is None:
            self.signal_received = signum
            self.returncode = 128 + signum
        self.stopping.set()

    # --- the loop ------------------------------------------------------------------------
    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        while not self.stopping.is_set():
            now = time.monotonic()
            for child in self.children:
                if child.running and child.popen.poll() is not None:
                    self.reap(child)
                elif not child.running and child.start_due is not None and now >= child.start_due:
                    if not self.stopping.is_set():
                        self.start(child)
            self._print_lines(POLL_S)
        if self.signal_received is not None:
            self.say(f"{signal.Signals(self.signal_received).name} received: stopping everything")
        self._stop_all()
        for thread in self.forgetting:
            thread.join(STOP_GRACE_S)
        return self.returncode

    def _stop_all(self) -> None:
        running = [c for c in self.children if c.running]
        for child in running:
            self.say(f"sending SIGTERM to {child.name} (pid {child.popen.pid})")
            self.kill_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while any(c.running for c in running) and time.monotonic() < deadline:
            for child in running:
                if child.running and child.popen.poll() is not None:
                    self.reap(child)
            self._print_lines(POLL_S)
        for child in running:
            if child.running:
                self.say(f"sending SIGKILL to {child.name} (pid {child.popen.pid})")
                self.kill_group(child, signal.SIGKILL)
                child.popen.wait(STOP_GRACE_S)
                self.reap(child)
        self._print_lines(0)


def forget_heartbeat(pid: int) -> None:
    """Remove the heartbeat row of a worker process that died (Django set up on first use)."""
    try:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        with _django_lock:
            django.setup()
        from django.db import connection

        from core.heartbeat import forget_process

        try:
            forget_process(pid=pid)
        finally:
            connection.close()
    except Exception as exc:  # the database may be down too; the row then goes stale by itself
        print(f"runner: could not remove the heartbeat of pid {pid}: {exc}", file=sys.stderr)


_django_lock = threading.Lock()


def main(argv: list[str]) -> int:
    procfile = parse_procfile(Path("Procfile").read_text())
    wanted = argv or list(procfile.processes)
    unknown = [name for name in wanted if name not in procfile.processes]
    if unknown:
        print(f"error: not in the Procfile: {', '.join(unknown)}", file=sys.stderr)
        return 2
    colours = get_colours()
    children = [
        Child(p.name, p.cmd, {**os.environ, **p.env}, colour=next(colours))
        for p in expand_processes({name: procfile.processes[name] for name in wanted})
    ]
    printer = Printer(sys.stdout, colour=sys.stdout.isatty(), width=max(len(c.name) for c in [*children, Child("system", "", {})]))
    return Supervisor(children, printer, forget=forget_heartbeat).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
