"""Progress on stderr: a redrawn bar on a terminal, a line per item elsewhere, nothing
when quiet."""

from __future__ import annotations

import io

import pytest

from expandcontract.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(progress: Progress) -> None:
    progress.note("starting")
    for done in range(3):
        progress.step(done, 3, f"r{done}")
    progress.step(3, 3, "done")


def test_a_log_gets_one_line_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    _run(Progress("verifying", stream=stream))
    assert stream.getvalue().splitlines() == [
        "verifying: starting",
        "verifying r0 (1/3)",
        "verifying r1 (2/3)",
        "verifying r2 (3/3)",
    ]


def test_a_terminal_gets_one_redrawn_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    stream = Terminal()
    _run(Progress("verifying", stream=stream))
    text = stream.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n")
    assert "[" + "#" * 20 + "] 3/3 done" in text
    assert len(text.strip().split("\n")) == 2  # the note, then the one redrawn bar line


def test_ci_gets_lines_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    stream = Terminal()
    _run(Progress("verifying", stream=stream))
    assert "\r" not in stream.getvalue()


def test_quiet_says_nothing() -> None:
    stream = Terminal()
    _run(Progress("verifying", quiet=True, stream=stream))
    assert stream.getvalue() == ""
