"""Run the Procfile with honcho, except that a worker cluster stopping does not stop the site.

Plain honcho stops every process when any one stops. Here only the essential processes (the web
server and the embedded Redis) do that; a worker cluster that dies is reported in the log and
by /healthz (HTTP 503) while the site keeps serving. Ctrl-C still stops everything.

    python -m core.runner [PROCESS ...]
"""

import os
import sys
from pathlib import Path

from honcho.environ import expand_processes, parse_procfile
from honcho.manager import Manager
from honcho.printer import Printer

ESSENTIAL = {"web", "redis"}


class SiteManager(Manager):
    def _any_stopped(self) -> bool:
        # honcho names processes "<type>.<n>"; only essential types end the whole run.
        return any(
            p.get("returncode") is not None
            for name, p in self._processes.items()
            if name.rsplit(".", 1)[0] in ESSENTIAL
        )


def main(argv: list[str]) -> int:
    procfile = parse_procfile(Path("Procfile").read_text())
    wanted = argv or list(procfile.processes)
    unknown = [name for name in wanted if name not in procfile.processes]
    if unknown:
        print(f"error: not in the Procfile: {', '.join(unknown)}", file=sys.stderr)
        return 2
    manager = SiteManager(Printer(sys.stdout, colour=sys.stdout.isatty()))
    processes = {name: procfile.processes[name] for name in wanted}
    for process in expand_processes(processes):
        manager.add_process(process.name, process.cmd, quiet=process.quiet, env={**os.environ, **process.env})
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
