"""Progress of long commands, stage by stage, on standard output: on a terminal, rich shows each stage
with a spinner and its time once the command has run for a second; elsewhere (CI, a pipe, a file) each
stage is a plain line when it ends. Standard error stays for what went wrong."""
from __future__ import annotations

import sys
import threading
import time

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

SHOW_AFTER = 1.0  # seconds: quicker commands show nothing on a terminal


class Stages:
    """Stages of one command, each started by next(name) and ended by the next one or by close().
    lines=False: no plain lines (a command that prints its own), only the display on a terminal."""

    def __init__(self, command: str, stream=None, lines: bool = True):
        self.command, self.lines = command, lines
        self.stream = stream if stream is not None else sys.stdout
        self.current: tuple[str, float, object] | None = None
        self.display = self.timer = None
        if self.stream.isatty():
            self.display = Progress(SpinnerColumn(finished_text="✓"), TextColumn("{task.description}"),
                                    TimeElapsedColumn(), console=Console(file=self.stream))
            self.timer = threading.Timer(SHOW_AFTER, self.display.start)
            self.timer.daemon = True
            self.timer.start()

    def next(self, name: str) -> None:
        self._end()
        task = self.display.add_task(name, total=1) if self.display else None
        self.current = (name, time.perf_counter(), task)

    def _end(self) -> None:
        if self.current is None:
            return
        name, start, task = self.current
        self.current = None
        if self.display is not None:
            self.display.update(task, completed=1)
        elif self.lines:
            print(f"{self.command}: {name} {time.perf_counter() - start:.2f} s", file=self.stream, flush=True)

    def close(self) -> None:
        self._end()
        if self.timer is not None:
            self.timer.cancel()
            self.display.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Quiet:
    """No progress: what a library call of a command gets by default."""

    def next(self, name: str) -> None:
        pass

    def close(self) -> None:
        pass
