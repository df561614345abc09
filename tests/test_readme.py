"""The README's first command, exactly as written, in a fresh clone: what a new user runs first.

It installs the project from scratch with the stock ``python3 -m venv`` (and the pip that
venv bundles, not upgraded: an old pip resolves dependencies differently, e.g. it dropped
justext's ``lxml[html_clean]`` extra), so it takes a minute or two, most of it pip's; pip's
cache keeps it from downloading anything twice. It tests the committed HEAD, as a clone does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT, fresh_shell_env

INSTALL_TIMEOUT = 1500  # seconds; a cold pip cache on a busy two-core machine took four minutes


def readme_demo_line(readme: Path) -> str:
    """The one command of the fenced block under the README's "Try it" heading."""
    section = readme.read_text(encoding="utf-8").split("\n## Try it", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```(?:sh|bash|console)?\n(.*?)^```", section, re.DOTALL | re.MULTILINE)
    assert block, "no fenced command block under the README's 'Try it' heading"
    (line,) = [line for line in block.group(1).splitlines() if line.strip()]
    return line.removeprefix("$ ")


@pytest.mark.fresh_clone
def test_the_readme_demo_line_works_in_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "newsarchive"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT), str(clone)], check=True, timeout=120)
    line = readme_demo_line(clone / "README.md")
    assert "python3 -m venv .venv" in line and "newsarchive demo" in line  # the line a user copies
    assert shutil.which("python3", path=fresh_shell_env()["PATH"]), "no python3 on PATH to make the venv"

    result = subprocess.run(["sh", "-c", line], cwd=clone, env=fresh_shell_env(), capture_output=True,
                            text=True, timeout=INSTALL_TIMEOUT)
    assert result.returncode == 0, f"{line}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    assert "9 articles catalogued from http://127.0.0.1:8765" in result.stdout
    warcs = re.findall(r"^  WARC: (\S+)$", result.stdout, re.MULTILINE)
    assert warcs and all((clone / name).is_file() for name in warcs), result.stdout
    assert re.search(r"^run \d+ \(ok\): \d+ pages fetched \(0 not modified\)", result.stdout, re.MULTILINE)

    # The "Next:" commands, pasted into a new terminal in the clone, work as printed.
    block = result.stdout.split("\nNext:\n", 1)[1]
    printed = [row.split("#", 1)[0].strip() for row in block.splitlines() if row.startswith("  ") and "#" in row]
    assert printed and all(command.startswith(".venv/bin/newsarchive ") for command in printed), printed
    for command in printed:
        if command.split()[1] in ("articles", "show", "runs", "verify"):
            done = subprocess.run(["sh", "-c", command], cwd=clone, env=fresh_shell_env(), capture_output=True,
                                  text=True, timeout=120)
            assert done.returncode == 0 and done.stdout.strip(), (command, done.stderr[-2000:])
    assert (clone / "sources.toml").is_file()  # for the user's own sites
