"""What the terminal shows while training: a live line on a terminal, plain lines every
LOG_SECONDS elsewhere (logs, CI, nohup), messages always."""

import io

from phenolab.cli.progress import ProgressPrinter
from phenolab.run import Progress


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def step(n: int) -> Progress:
    return Progress(step=n, total=100, train_acc=(1.0, 1.0), test_acc=(0.5, 0.995))


def test_off_a_terminal_progress_is_plain_lines_at_most_every_log_seconds():
    said, stream = [], Stream(tty=False)
    printer = ProgressPrinter(said.append, stream, log_seconds=1e9)  # no second line in a test
    printer(Progress("training 2 runs"))
    for n in (1, 2, 3):
        printer(step(n))
    printer(Progress(finished=True))
    lines = stream.getvalue().splitlines()
    assert said == ["training 2 runs"]
    assert len(lines) == 1 and "\r" not in stream.getvalue()
    assert "step   1/100" in lines[0] and "1/2 ≥ 0.99" in lines[0]


def test_on_a_terminal_the_line_is_redrawn_in_place_and_ended_before_a_message():
    said, stream = [], Stream(tty=True)
    printer = ProgressPrinter(said.append, stream)
    printer(step(1))
    printer.last_draw = float("-inf")  # as if the redraw interval had passed
    printer(step(2))
    printer(Progress("found"))
    out = stream.getvalue()
    assert out.count("\r") == 2 and out.endswith("\n") and said == ["found"]
