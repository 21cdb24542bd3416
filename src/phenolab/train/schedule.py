"""When to evaluate: log-spaced early (to resolve fast memorisation), then every n steps."""

from __future__ import annotations

import math


def log_spaced(last: int, points: int = 20) -> list[int]:
    """About `points` integer steps from 1 to `last`, evenly spaced in log(step)."""
    if last < 1:
        return []
    steps = {round(math.exp(i * math.log(last) / max(points - 1, 1))) for i in range(points)}
    return sorted(s for s in steps if 1 <= s <= last)


def every(n: int, last: int) -> list[int]:
    return list(range(n, last + 1, n))


def eval_grid(total_steps: int, eval_every: int) -> list[int]:
    """Step 0 (init), 30 log-spaced steps up to 10·`eval_every` (to resolve the fast fit), every
    `eval_every` steps, and the last step."""
    steps = {0, total_steps}
    steps.update(log_spaced(min(10 * eval_every, total_steps), points=30))
    steps.update(every(eval_every, total_steps))
    return sorted(steps)
