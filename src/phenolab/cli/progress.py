"""What the terminal shows while `train_configs` works: its messages, and the training state as
one live line on stderr (step, median train / test accuracy, members ≥ 0.99, elapsed time).

On a terminal the line is redrawn in place; anywhere else (a log file, CI, nohup) a plain line
is printed every LOG_SECONDS instead, so logs stay readable and still show that work goes on.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from phenolab.analysis.events import TAU
from phenolab.run import Progress

LOG_SECONDS = 30.0  # between progress lines when stderr is not a terminal
REDRAW_SECONDS = 0.1


class ProgressPrinter:
    """An `on_progress` callback: messages go to `say`, progress to `stream`."""

    def __init__(
        self,
        say: Callable[[str], None],
        stream=None,
        tty: bool | None = None,
        log_seconds: float = LOG_SECONDS,
    ) -> None:
        self.say = say
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = REDRAW_SECONDS if self.tty else log_seconds
        self.t0 = time.monotonic()
        self.last_draw = -float("inf")
        self.drawn: Progress | None = None  # a live line is on screen

    def __call__(self, progress: Progress) -> None:
        if progress.message is not None:
            self._end_line()
            self.say(progress.message)
        elif progress.finished:
            self._end_line()
        elif time.monotonic() - self.last_draw >= self.interval:
            self.last_draw = time.monotonic()
            text = self.line(progress)
            if self.tty:
                self.stream.write(f"\r{text} ")
                self.drawn = progress
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def line(self, p: Progress) -> str:
        width = 28
        done = int(width * p.step / p.total) if p.total else 0
        bar = "█" * done + "·" * (width - done)
        acc = ""
        if p.test_acc:
            tr, te = statistics.median(p.train_acc), statistics.median(p.test_acc)
            acc = f"  train {tr:.3f}  test {te:.3f}"
            if len(p.test_acc) > 1:
                acc = f"  median{acc}  {p.generalized()}/{len(p.test_acc)} ≥ {TAU}"
        seconds = time.monotonic() - self.t0
        return f"  step {p.step:>{len(str(p.total))}}/{p.total} |{bar}|{acc}  {seconds:6.1f}s"

    def _end_line(self) -> None:
        if self.drawn is not None:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = None
