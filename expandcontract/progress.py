"""Progress on stderr: a bar that redraws one line on a terminal, plain lines in CI or
in a log, nothing when quiet."""

from __future__ import annotations

import os
import shutil
import sys


class Progress:
    """``step(done, total, label)`` as the item after ``done`` of ``total`` starts (and
    once with ``done == total`` at the end); ``note(text)`` for the rest."""

    def __init__(self, prefix: str, quiet: bool = False, stream=None) -> None:
        self.prefix = prefix
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.bar = (
            not quiet
            and hasattr(self.stream, "isatty")
            and self.stream.isatty()
            and not os.environ.get("CI")
            and os.environ.get("TERM") != "dumb"
        )
        self._open = False  # a bar line is drawn and not yet ended

    def note(self, text: str) -> None:
        if self.quiet:
            return
        self._end()
        print(f"{self.prefix}: {text}", file=self.stream, flush=True)

    def step(self, done: int, total: int, label: str = "") -> None:
        if self.quiet:
            return
        if not self.bar:  # a line as each item starts: a log shows where it stopped
            if done < total:
                line = f"{self.prefix} {label} ({done + 1}/{total})"
                print(line, file=self.stream, flush=True)
            return
        width = shutil.get_terminal_size((80, 20)).columns
        filled = int(20 * done / total) if total else 20
        line = f"{self.prefix} [{'#' * filled}{'.' * (20 - filled)}] {done}/{total} {label}"
        print("\r" + line[: width - 1].ljust(width - 1), end="", file=self.stream, flush=True)
        self._open = True
        if done >= total:
            self._end()

    def _end(self) -> None:
        if self._open:
            print(file=self.stream, flush=True)
            self._open = False

    def close(self) -> None:
        self._end()
