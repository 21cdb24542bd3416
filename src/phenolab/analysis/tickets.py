"""Read-outs of lottery-ticket runs: the early-stopping iteration, the accuracy there, and how
deep a sequence of IMP rounds keeps matching the dense network.

Frankle & Carbin 2019 ("The Lottery Ticket Hypothesis", §2 and Fig. 3–4) judge a network at
its early-stopping iteration, the iteration of minimum validation loss, and report the test
accuracy there: winning tickets reach it sooner (they "learn faster") and match or beat the
dense network's accuracy down to a small fraction of the weights. Frankle et al. 2020 ("Linear
Mode Connectivity and the Lottery Ticket Hypothesis", §5) call a subnetwork *matching* when it
reaches the dense network's accuracy.

Here "matching" allows one binomial standard error of the dense accuracy on the test set,
√(a(1 − a)/n), the resolution of a test set of n examples, so that test-set noise alone does not
decide it; and a sequence of rounds matches "down to" round r when every round 1 … r matches
(a flicker is not matching, as a flicker above τ is not generalization: events.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def early_stop_step(steps: Sequence[int], test_loss: Sequence[float]) -> int:
    """The evaluation step of minimum test loss (the first, on ties): the early-stopping
    iteration of Frankle & Carbin 2019, with the test set standing in for their validation set
    (a NaN loss never counts as the minimum)."""
    if not steps:
        raise ValueError("early_stop_step: no evaluations")
    best = min(
        range(len(steps)),
        key=lambda i: (math.inf if math.isnan(test_loss[i]) else test_loss[i], i),
    )
    return steps[best]


def early_stop(metrics: dict) -> tuple[int, float]:
    """(early-stopping step, test accuracy there) of a run's metrics {name: (steps, values)}."""
    steps, loss = metrics["test/loss"]
    step = early_stop_step(steps, loss)
    acc_steps, acc = metrics["test/acc"]
    return step, acc[acc_steps.index(step)]


def standard_error(accuracy: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on n examples: √(a(1 − a)/n)."""
    if n < 1:
        raise ValueError(f"standard_error: n must be at least 1, got {n}")
    return math.sqrt(max(accuracy * (1 - accuracy), 0.0) / n)


def matching_depth(values: Sequence[float], bar: float) -> int:
    """How many rounds, counted from the first, all reach `bar`: the deepest round r such that
    values[0 … r − 1] (rounds 1 … r) are all ≥ bar; 0 when round 1 already falls short."""
    depth = 0
    for value in values:
        if not value >= bar:  # NaN falls short
            break
        depth += 1
    return depth
