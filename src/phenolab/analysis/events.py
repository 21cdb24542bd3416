"""Events and phases of a finished curve.

- t_fit: first eval step from which train accuracy stays ≥ τ to the end of the run.
- t_gen: first eval step from which test accuracy stays ≥ τ to the end of the run
  (a flicker above τ is not generalization).
- first_crossing: the first eval step at which a curve reaches a level at all — the metric
  many papers report instead (e.g. Lee et al. 2024's "iterations to reach 95 % val. acc."),
  shown beside t_gen where an entry compares with such a number; never used for phases.
- Phases (after Liu et al. 2022, "Towards understanding grokking", and Huang et al. 2024,
  "Unifying grokking and double descent"):
  confusion (train never fits); comprehension (t_gen ≤ k·t_fit); grokking (t_gen > k·t_fit);
  semi-grokking (train fits, test ends well above chance but below τ); memorization (train
  fits, test ends near chance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from phenolab.tasks import n_elements

TAU = 0.99  # accuracy that counts as fitted / generalized
COMPREHENSION_K = 2.0  # t_gen ≤ k · t_fit is comprehension, beyond it grokking
SEMI_GROK_MIN = 0.25  # final test accuracy, as a fraction of the way from chance to 1, that
# separates semi-grokking from memorization
FINAL_WINDOW = 5  # final test accuracy = median of the last this many evaluations

PHASES = ("comprehension", "grokking", "semi-grokking", "memorization", "confusion")


def first_sustained(steps: Sequence[int], values: Sequence[float], tau: float) -> int | None:
    """The first step from which every later value is ≥ tau; None if the last one is below."""
    first = None
    for step, value in zip(steps, values, strict=True):
        if value >= tau:
            if first is None:
                first = step
        else:
            first = None
    return first


def first_crossing(steps: Sequence[int], values: Sequence[float], tau: float) -> int | None:
    """The first step whose value is ≥ tau (whatever comes after); None if none is."""
    return next((s for s, v in zip(steps, values, strict=True) if v >= tau), None)


def value_at(metrics: dict, name: str, step: int | None) -> float | None:
    """The value of metric `name` recorded at `step` in a run's metrics (name → (steps,
    values)); None for no step, an unrecorded metric or a step off the evaluation grid."""
    steps, values = metrics.get(name, ([], []))
    return values[steps.index(step)] if step in steps else None


def final_value(values: Sequence[float], window: int = FINAL_WINDOW) -> float:
    tail = sorted(values[-window:])
    return tail[len(tail) // 2] if tail else float("nan")


@dataclass(frozen=True)
class Events:
    t_fit: int | None
    t_gen: int | None
    delay: int | None  # t_gen − t_fit
    ratio: float | None  # t_gen / t_fit
    final_train_acc: float | None  # None: no accuracy recorded (NO_EVENTS)
    final_test_acc: float | None
    phase: str

    def as_dict(self) -> dict:
        return asdict(self)


# The events of a run without accuracy (a regression task): nothing to classify.
NO_EVENTS = Events(None, None, None, None, None, None, "n/a")


def classify(
    steps: Sequence[int],
    train_acc: Sequence[float],
    test_acc: Sequence[float],
    chance: float,
    tau: float = TAU,
    k: float = COMPREHENSION_K,
    semi_min: float = SEMI_GROK_MIN,
) -> Events:
    """t_fit, t_gen and the phase of one member's finished accuracy curves."""
    t_fit = first_sustained(steps, train_acc, tau)
    t_gen = first_sustained(steps, test_acc, tau)
    final_test = final_value(test_acc)
    if t_fit is None:
        phase = "confusion"
    elif t_gen is not None:
        phase = "comprehension" if t_gen <= k * t_fit else "grokking"
    elif (final_test - chance) / (1 - chance) >= semi_min:
        phase = "semi-grokking"
    else:
        phase = "memorization"
    both = t_fit is not None and t_gen is not None
    return Events(
        t_fit=t_fit,
        t_gen=t_gen,
        delay=t_gen - t_fit if both else None,
        ratio=t_gen / t_fit if both and t_fit > 0 else None,
        final_train_acc=final_value(train_acc),
        final_test_acc=final_test,
        phase=phase,
    )


def events_of(record, metrics: dict) -> Events:
    """The events of a stored run (`record.config` is its config JSON) from its curves
    {name: (steps, values)}; NO_EVENTS for a run without accuracies (a regression task)."""
    if "train/acc" not in metrics:
        return NO_EVENTS
    steps, train_acc = metrics["train/acc"]
    _, test_acc = metrics["test/acc"]
    return classify(steps, train_acc, test_acc, chance=chance_of(record))


def chance_of(record) -> float:
    """The accuracy of guessing: 1 / classes of the task, or what a run phenolab did not train
    recorded (`external.chance`)."""
    if record.external is not None:
        return record.external["chance"]
    task = record.config["task"]
    return 1.0 / n_elements(task["op"], task["p"])


def rise_width(
    steps: Sequence[int], values: Sequence[float], lo: float = 0.1, hi: float = 0.9
) -> int | None:
    """Steps between a curve's crossings of `lo` and `hi` of the way from its extreme value
    opposite to where it ends (the trough of a rising curve, the peak of a falling one) to its
    final value: the 10→90 % width of its last transition. Grokking curves of test loss first
    get worse (memorization) before they improve, so the first value is not the start of the
    rise. None if the curve does not move or never crosses."""
    end = final_value(values)
    rising = end >= values[0]
    i0 = min(range(len(values)), key=lambda i: values[i] if rising else -values[i])
    start = values[i0]
    if end == start:
        return None
    progress = [(v - start) / (end - start) for v in values[i0:]]
    tail = steps[i0:]
    t_lo = next((s for s, f in zip(tail, progress, strict=True) if f >= lo), None)
    t_hi = next((s for s, f in zip(tail, progress, strict=True) if f >= hi), None)
    return None if t_lo is None or t_hi is None else t_hi - t_lo
