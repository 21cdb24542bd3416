"""A one-line live progress bar on stderr: step, live train/test accuracy, elapsed time."""

from __future__ import annotations

import sys
import time

from phenolab.train.loop import Callback, TrainState


class ProgressBar(Callback):
    def __init__(self, total: int, stream=sys.stderr, width: int = 28, interval: float = 0.1):
        self.total, self.stream, self.width, self.interval = total, stream, width, interval
        self.last_draw = 0.0

    def on_train_start(self, state: TrainState) -> None:
        self.draw(state)

    def on_step_end(self, state: TrainState) -> None:
        if time.monotonic() - self.last_draw >= self.interval:
            self.draw(state)

    def on_train_end(self, state: TrainState) -> None:
        self.draw(state)
        self.stream.write("\n")
        self.stream.flush()

    def draw(self, state: TrainState) -> None:
        self.last_draw = time.monotonic()
        done = int(self.width * state.step / self.total)
        bar = "█" * done + "·" * (self.width - done)
        m = state.metrics
        acc = ""
        if "train/acc" in m:
            acc = f"  train {m['train/acc'][0].item():.3f}  test {m['test/acc'][0].item():.3f}"
        self.stream.write(
            f"\r  step {state.step:>{len(str(self.total))}}/{self.total} |{bar}|{acc}"
            f"  {state.seconds:6.1f}s "
        )
        self.stream.flush()
