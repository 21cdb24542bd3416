"""A one-line live progress bar on stderr: step, live train/test accuracy, elapsed time.

For an ensemble it shows the median accuracies and how many members have test accuracy ≥ 0.99.
`ProgressBar` is a training callback; `StorePoller` draws the same line for shards trained in
other processes, from what they have written to the store.
"""

from __future__ import annotations

import statistics
import sys
import time

from phenolab.analysis.events import TAU
from phenolab.store import Store
from phenolab.train.loop import Callback, TrainState


class _Line:
    def __init__(self, total: int, stream=sys.stderr, width: int = 28) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.t0 = time.monotonic()

    def draw(self, step: int, train_acc: list[float], test_acc: list[float]) -> None:
        done = int(self.width * step / self.total)
        bar = "█" * done + "·" * (self.width - done)
        acc = ""
        if test_acc:
            tr, te = statistics.median(train_acc), statistics.median(test_acc)
            acc = f"  train {tr:.3f}  test {te:.3f}"
            if len(test_acc) > 1:
                acc = f"  median{acc}  {sum(a >= TAU for a in test_acc)}/{len(test_acc)} ≥ {TAU}"
        seconds = time.monotonic() - self.t0
        self.stream.write(
            f"\r  step {step:>{len(str(self.total))}}/{self.total} |{bar}|{acc}  {seconds:6.1f}s "
        )
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class ProgressBar(Callback):
    def __init__(self, total: int, stream=sys.stderr, interval: float = 0.1) -> None:
        self.line = _Line(total, stream)
        self.interval = interval
        self.last_draw = 0.0

    def on_train_start(self, state: TrainState) -> None:
        self.draw(state)

    def on_step_end(self, state: TrainState) -> None:
        if time.monotonic() - self.last_draw >= self.interval:
            self.draw(state)

    def on_train_end(self, state: TrainState) -> None:
        self.draw(state)
        self.line.finish()

    def draw(self, state: TrainState) -> None:
        self.last_draw = time.monotonic()
        m = state.metrics
        train = m["train/acc"].tolist() if "train/acc" in m else []
        test = m["test/acc"].tolist() if "test/acc" in m else []
        self.line.draw(state.step, train, test)


class StorePoller:
    """Called every half second by the parent of worker processes: redraws from the store."""

    def __init__(self, store: Store, run_ids: list[str], total: int, stream=sys.stderr) -> None:
        self.store, self.run_ids = store, run_ids
        self.line = _Line(total, stream)

    def __call__(self) -> None:
        step, train, test = self.store.latest(self.run_ids, ("train/acc", "test/acc"))
        self.line.draw(step, train, test)

    def finish(self) -> None:
        self()
        self.line.finish()
