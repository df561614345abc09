"""The ``newsarchive`` command as a user runs it, each time in a process of its own.

Twisted's reactor runs once per process, so a crawl cannot run inside the test process,
and the other commands are run the same way to be seen as users see them: exit status,
stdout and stderr. ``python -c`` runs the console script's entry point from this checkout,
whether or not the script is on PATH.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

NEWSARCHIVE = (sys.executable, "-c", "from cli.main import main; main()")


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300, check: bool = False,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``newsarchive ARGS`` to its end, its output captured as text (``env``: instead of this process's)."""
    return subprocess.run([*NEWSARCHIVE, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          check=check, env=env)


def workdir_options(workdir: Path) -> list[str]:
    """The global options of an archive kept in WORKDIR: ``--data-dir WORKDIR/data --sources WORKDIR/sources.toml``."""
    return ["--data-dir", str(workdir / "data"), "--sources", str(workdir / "sources.toml")]


def run_cli_in(workdir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``newsarchive`` with :func:`workdir_options` and ARGS, run in WORKDIR."""
    return run_cli(*workdir_options(workdir), *args, cwd=workdir, timeout=timeout)


def start_cli(*args: str, **popen: Any) -> subprocess.Popen[Any]:
    """``newsarchive ARGS`` started and left running (a server, the scheduler, a crawl worker)."""
    return subprocess.Popen([*NEWSARCHIVE, *args], **popen)
