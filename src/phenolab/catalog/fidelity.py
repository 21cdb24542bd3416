"""The fidelity table (issue 15): each number a catalog entry's paper publishes, beside what the
entry's canonical variant measured — read from the store, never trained here.

A row names the published value and where it is printed, the metric in the paper's own terms
(the first step at a test accuracy or below a test loss, or phenolab's sustained t_gen where
the paper's quantity is that), and the arm(s) whose canonical runs measure it; a ratio row
compares two arms' medians (a censored one makes the ratio a lower or an upper bound). Its status:
- "reproduced": the median over the seeds found is within `tolerance`× of the published value
  (both ways);
- "not reproduced": it is not (a seed that never reached the level counts as just past its
  budget, so a median beyond the budget is a bound, and one beyond tolerance is decided);
- "not decided": the runs are too short to tell;
- "not run": no finished canonical run in the store; the row carries the one command that runs
  it (the entry on a GPU; for a first crossing, also a shorter run of the same config).

A first crossing at step s ≤ N is the same in a run cut at N steps (the same config but `steps`;
the evaluation grid up to N is the same once N ≥ 10·eval_every): such a "probe" run counts.
"""

from __future__ import annotations

import shlex
import statistics
from dataclasses import dataclass

from phenolab.analysis.events import TAU, first_crossing, first_sustained
from phenolab.catalog.entry import Arm, Entry
from phenolab.config import RunConfig
from phenolab.config.presets import preset

PROBE_SEEDS = 3  # seeds of a probe run (the "median of 3 seeds")
STATUSES = ("reproduced", "not reproduced", "not decided", "not run")


@dataclass(frozen=True)
class Published:
    """One published number and how the entry's canonical runs measure it."""

    entry: str
    arms: tuple[str, ...]  # one arm: its median; two: the ratio of their medians
    quantity: str  # what the number is, in words
    value: float
    source: str  # the figure, table or text that prints it
    level: float = 0.99  # of `series`
    first: bool = False  # the first crossing of `level` (else: sustained, as t_gen)
    series: str = "test/acc"  # the metric crossed; a loss ("…/loss") crosses from above
    tolerance: float = 1.5
    probe_steps: int | None = None  # a run cut here decides a first crossing up to it
    note: str = ""


PUBLISHED: tuple[Published, ...] = (
    Published(
        "lee2024-grokfast",
        ("grokfast-ma",),
        "Grokfast-MA: first step at 95 % test acc.",
        790,
        "Lee et al. 2024, Table 1 / the authors' README",
        level=0.95,
        first=True,
        probe_steps=2000,
    ),
    Published(
        "lee2024-grokfast",
        ("grokfast-ema",),
        "Grokfast-EMA: first step at 95 % test acc.",
        910,
        "Lee et al. 2024, Table 1 / the authors' README",
        level=0.95,
        first=True,
        probe_steps=2000,
    ),
    Published(
        "lee2024-grokfast",
        ("baseline",),
        "no filter, no decay: first step at 95 % test acc.",
        39_890,
        "Lee et al. 2024, Table 1 / the authors' README",
        level=0.95,
        first=True,
    ),
    Published(
        "nanda2023-addition",
        ("addition",),
        "t_gen (test acc. ≥ 99 % to the end)",
        13_300,
        "Nanda et al. 2023, §5.2: cleanup ends near 13.3k–14k steps",
        note="the maintained reference notebook's log: test loss collapses near 13,800",
    ),
    Published(
        "nanda2023-addition",
        ("reference-notebook",),
        "first step at test loss ≤ 1, the reference notebook's settings (no MLP biases, "
        "TransformerLens init, no warm-up, its split)",
        13_800,
        "TransformerLens demos/Grokking_Demo.ipynb's log: test loss 1.43 at step 13,700, "
        "0.86 at 13,800",
        level=1.0,
        first=True,
        series="test/loss",
        note="the notebook logs no accuracy; its test loss peaks at 34 (step 1,400) and is "
        "below 0.1 from 14,200",
    ),
    Published(
        "tveit2025-muon",
        ("adamw", "muon"),
        "AdamW / Muon, steps to 95 % test acc.",
        153.09 / 102.89,
        "Tveit et al. 2025, Fig. 4/5: mean grokking epoch 153.09 / 102.89 (7 tasks)",
        level=0.95,
        first=True,
        probe_steps=2000,  # 200–220 epochs of 4,656 pairs in batches of 512: past both means
        note="the paper's means are over seven tasks and three softmax variants; the entry runs "
        "one task",
    ),
)


@dataclass(frozen=True)
class Row:
    published: Published
    status: str
    median: float | None = None  # the measured value (None: unknown)
    lower: float | None = None  # a bound when the median is censored
    low: float | None = None  # range over seeds (single-arm rows)
    high: float | None = None
    seeds: int = 0
    device: str = ""
    # training seconds of all seeds of all arms: each shard's wall time once (members trained
    # together in one ensemble share it), summed over shards however they ran side by side
    seconds: float | None = None
    variant: str = ""  # canonical, or the probe (steps cut)
    commands: tuple[str, ...] = ()
    # phenolab's sustained t_gen (TAU) of the same runs, median or its lower bound (one-arm rows
    # whose metric differs from it)
    t_gen: float | None = None
    t_gen_lower: float | None = None
    upper: float | None = None  # a ratio's bound when its denominator is censored

    def t_gen_text(self) -> str:
        if self.t_gen is not None:
            return f"{self.t_gen:,.0f}"
        return f"≥ {self.t_gen_lower:,.0f}" if self.t_gen_lower is not None else "—"

    def measured_text(self) -> str:
        if self.status == "not run":
            return "—"
        number = "{:.2f}" if len(self.published.arms) > 1 else "{:,.0f}"
        if self.median is None:
            if self.lower is not None:
                return "≥ " + number.format(self.lower)
            return "≤ " + number.format(self.upper) if self.upper is not None else "unknown"
        if len(self.published.arms) > 1:
            return number.format(self.median)
        spread = f" [{self.low:,.0f}–{self.high:,.0f}]" if self.low is not None else ""
        return f"{self.median:,.0f}{spread}"

    def as_dict(self) -> dict:
        p = self.published
        return {
            "entry": p.entry,
            "arms": list(p.arms),
            "quantity": p.quantity,
            "published": p.value,
            "source": p.source,
            "metric": metric_text(p),
            "tolerance": p.tolerance,
            "status": self.status,
            "median": self.median,
            "lower_bound": self.lower,
            "upper_bound": self.upper,
            "range": [self.low, self.high] if self.low is not None else None,
            "seeds": self.seeds,
            "device": self.device,
            "seconds": self.seconds,
            "variant": self.variant,
            "commands": list(self.commands),
            "t_gen": self.t_gen,
            "t_gen_lower_bound": self.t_gen_lower,
            "note": p.note,
        }


def _arm(entry: Entry, name: str) -> Arm:
    return next(a for a in entry.arms if a.name == name)


def _finished(store, configs: list[RunConfig]) -> list:
    if store is None:
        return []
    records = [store.get_run(c.run_id()) for c in configs]
    return [r for r in records if r is not None and r.status == "finished"]


def _runs(entry: Entry, p: Published, arm: str, store) -> tuple[list, str]:
    """The finished runs that measure `arm`: the canonical seeds, else the probe's."""
    config = _arm(entry, arm).config
    found = _finished(store, [config.replace(seed=s) for s in range(entry.seeds)])
    if found:
        return found, "canonical"
    if p.first and p.probe_steps:
        probe = config.replace(steps=p.probe_steps)
        found = _finished(store, [probe.replace(seed=s) for s in range(PROBE_SEEDS)])
        if found:
            return found, f"canonical cut at {p.probe_steps:,} steps"
    return [], ""


def _falls(p: Published) -> bool:
    """Whether the row's series crosses its level from above (a loss)."""
    return p.series.endswith("loss")


def metric_text(p: Published) -> str:
    when = "first step at" if p.first else "sustained from"
    return f"{when} {p.series} {'≤' if _falls(p) else '≥'} {p.level}"


def _seed_value(p: Published, store, record) -> float | None:
    steps, values = store.metrics(record.id).get(p.series, ([], []))
    sign = -1.0 if _falls(p) else 1.0  # a loss below the level: its negative above −level
    cross = first_crossing if p.first else first_sustained
    return cross(steps, [sign * v for v in values], sign * p.level)


def _sustained_t_gen(p: Published, store, record) -> float | None:
    """phenolab's t_gen (test accuracy ≥ TAU to the end), shown beside the paper's metric."""
    steps, values = store.metrics(record.id).get("test/acc", ([], []))
    return first_sustained(steps, values, TAU)


def _median(
    p: Published, store, records, value=_seed_value
) -> tuple[float | None, float | None, list[float]]:
    """(median or None, its lower bound when censored, the finite per-seed values)."""
    finite, censored = [], []
    for r in records:
        v = value(p, store, r)
        if v is None:
            censored.append(r.config["train"]["steps"] + 1)
        else:
            finite.append(float(v))
    if not censored:
        return statistics.median(finite), None, finite
    bound = statistics.median(finite + censored)
    return (None, bound, finite) if bound in censored else (bound, None, finite)


def _device(records) -> str:
    """The GPU's name, or the CPU's model on CPU (as the run recorded it)."""
    names = set()
    for r in records:
        env = r.env or {}
        cpu = (env.get("layout") or {}).get("cpu")
        names.add(env.get("gpu") or (cpu and f"{cpu} CPU") or env.get("device", "?"))
    return ", ".join(sorted(names))


def _shard_seconds(record) -> float:
    """The run's share of its shard's wall time (the members of one ensemble train together)."""
    members = ((record.env or {}).get("layout") or {}).get("members") or 1
    return (record.seconds or 0.0) / members


def _status(
    p: Published, median: float | None, lower: float | None, upper: float | None = None
) -> str:
    lo, hi = p.value / p.tolerance, p.value * p.tolerance
    if median is not None:
        return "reproduced" if lo <= median <= hi else "not reproduced"
    if (lower is not None and lower > hi) or (upper is not None and upper < lo):
        return "not reproduced"
    return "not decided"


def commands(p: Published, entry: Entry) -> tuple[str, ...]:
    """The command that runs the row's canonical variant on a GPU and, for a first crossing
    with a probe budget, the shorter run of the same config (CPU-sized)."""
    out = [f"phenolab reproduce {p.entry} --device cuda"]
    if p.first and p.probe_steps:
        for arm in p.arms:
            config = _arm(entry, arm).config.replace(steps=p.probe_steps)
            out.append(run_command(config, PROBE_SEEDS))
    return tuple(out)


def run_command(config: RunConfig, seeds: int) -> str:
    """`phenolab run` with the flags that turn the grokking preset into `config` (seeds 0 …
    seeds−1)."""
    base = preset("grokking").flat()
    flags = []
    for name, value in sorted(config.flat().items()):
        if name == "seed" or value == base[name]:
            continue
        if isinstance(value, tuple):
            text = ",".join(map(str, value))
        elif isinstance(value, bool):
            text = str(value).lower()
        else:
            text = str(value)
        flags.append(f"--{name.replace('_', '-')} {shlex.quote(text)}")
    return " ".join(["phenolab run", *flags, f"--seeds {seeds}"])


def fidelity_rows(store=None) -> list[Row]:
    """One row per published number (PUBLISHED), measured from `store` (None: nothing run)."""
    from phenolab.catalog import get

    rows = []
    for p in PUBLISHED:
        entry = get(p.entry)
        cmds = commands(p, entry)
        medians, all_records, variants, counts = [], [], [], []
        low = high = t_gen = t_gen_lower = None
        for arm in p.arms:
            records, variant = _runs(entry, p, arm, store)
            if not records:
                break
            median, lower, finite = _median(p, store, records)
            medians.append((median, lower))
            all_records += records
            variants.append(variant)
            counts.append(len(records))
            if len(p.arms) == 1 and finite:
                low, high = min(finite), max(finite)
            if len(p.arms) == 1 and (p.first or p.level != TAU or p.series != "test/acc"):
                t_gen, t_gen_lower, _ = _median(p, store, records, _sustained_t_gen)
        if len(medians) < len(p.arms):
            rows.append(Row(p, "not run", commands=cmds))
            continue
        upper = None
        if len(p.arms) == 1:
            median, lower = medians[0]
        else:  # a censored median is a lower bound: of the ratio if in the numerator, else upper
            (num, num_lo), (den, den_lo) = medians
            median = num / den if num is not None and den is not None else None
            lower = num_lo / den if num is None and num_lo is not None and den else None
            upper = num / den_lo if den is None and den_lo and num is not None else None
        seeds = min(counts)
        rows.append(
            Row(
                p,
                _status(p, median, lower, upper),
                median,
                lower,
                low,
                high,
                seeds,
                _device(all_records),
                sum(_shard_seconds(r) for r in all_records),
                " / ".join(sorted(set(variants))),
                cmds,
                t_gen,
                t_gen_lower,
                upper,
            )
        )
    return rows


def markdown(rows: list[Row]) -> str:
    """The table as Markdown (README), commands of the rows not run below it."""
    lines = [
        "| entry | published (source) | measured: median [range] | t_gen (≥ 0.99 to the end) "
        "| seeds | device | training s (shards summed) | status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        p = r.published
        value = f"{p.value:.2f}" if len(p.arms) > 1 else f"{p.value:,.0f}"
        seconds = f"{r.seconds:,.0f}" if r.seconds is not None else "—"
        lines.append(
            f"| `{p.entry}` | {p.quantity}: **{value}** ({p.source}) | {r.measured_text()} "
            f"| {r.t_gen_text()} | {r.seeds or '—'} | {r.device or '—'} | {seconds} "
            f"| {r.status} |"
        )
    pending = [r for r in rows if r.status == "not run"]
    if pending:
        lines += ["", "Not run yet — the commands that run them:", ""]
        for r in pending:
            lines.append(f"- `{r.published.entry}` {', '.join(r.published.arms)}:")
            lines += [f"  - `{c}`" for c in r.commands]
    return "\n".join(lines)
