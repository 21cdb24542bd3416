"""Compare interventions with a baseline the way a careful reviewer would: every arm over the
same seeds (the same data splits), matched controls on request, medians with spreads, speed-ups
with bootstrap intervals, and the seeds that never generalized counted, not dropped.

An arm is the baseline config changed by one or more parts joined by `+`:

    ID[:name=value,...]            an intervention (`phenolab interventions` lists them)
    set:FIELD=VALUE[,FIELD=VALUE]  config fields changed (e.g. `set:wd=0,lr=1e-3`)

e.g. `grokfast-ma:lamb=5`, `set:optimizer=sgd`, `grokfast-ema+set:wd=0.1`. Arms inherit
everything else from the baseline (so, unless they set it, its weight decay). Matched controls
(`matched=True`) add, for each arm, (a) its config changes without its interventions, when it
has both, and (b) whatever each of its interventions names in `Intervention.matched_controls`
(Grokfast: the learning rate divided by 1 + λ). Controls that need an arm's finished runs
(the same final weight norm for a ticket) belong in a second stage after `_train`; none exists
yet.

All configs of all arms are trained as few ensembles as their fields allow (sweep grouping:
members may differ in MEMBER_FIELDS, interventions included when their ids agree), and stored:
an identical config is found in the store, an interrupted one resumes.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from phenolab.analysis.ensemble import quantile
from phenolab.analysis.events import first_sustained
from phenolab.analysis.speedup import LEVEL, RESAMPLES, Speedup, speedup
from phenolab.config import RunConfig, field_specs
from phenolab.errors import ConfigError
from phenolab.interventions import INTERVENTIONS, canonical, canonical_specs
from phenolab.interventions.spec import parse
from phenolab.runner import DEFAULT_OPTIONS, Options, RunResult, default_device, events_of
from phenolab.store import Store
from phenolab.sweep.grid import compatible_groups
from phenolab.sweep.local import cpu_workers, run_shards
from phenolab.sweep.shards import plan_shards

T95 = 0.95  # "steps to 95 % test accuracy", the Grokfast paper's figure (sustained, as t_gen)
SET = "set:"
# fields an arm cannot set: seeds come from the comparison, interventions from spec parts
_NOT_SETTABLE = {"seed": "seeds are the comparison's (--seeds)", "interventions": "name them"}


@dataclass(frozen=True)
class Arm:
    """The baseline plus `interventions` (canonical specs, after the baseline's own) and config
    `changes` (field → value, a string as typed or a value)."""

    name: str
    interventions: tuple[str, ...] = ()
    changes: tuple[tuple[str, Any], ...] = ()
    control_of: str | None = None  # the arm this one is a matched control of
    matched: str = ""  # what the control matches, e.g. "lr/(1+λ)"

    def config(self, baseline: RunConfig) -> RunConfig:
        try:
            return baseline.replace(
                **dict(self.changes),
                interventions=(*baseline.train.interventions, *self.interventions),
            )
        except ConfigError as exc:
            raise ConfigError(f"arm {self.name!r}: {exc}") from None


def _part_boundary() -> re.Pattern:
    """A `+` that starts a new part: before `set:` or a registered intervention id (so that
    values such as `set:op=x+y` or `lr=1e+3` keep theirs)."""
    ids = "|".join(re.escape(i) for i in sorted(INTERVENTIONS, key=len, reverse=True))
    return re.compile(rf"\+(?=\s*(?:{re.escape(SET)}|(?:{ids})\s*(?::|\+|$)))")


def parse_arm(text: str) -> Arm:
    """`ID[:k=v,...]`, `set:FIELD=VALUE,...`, or parts of both joined by `+` → an Arm named by
    its canonical spelling. Mistakes are ConfigErrors that name the arm and the bad part."""
    text = text.strip()
    if not text:
        raise ConfigError("arm: empty (expected ID[:k=v,...] or set:FIELD=VALUE, joined by +)")
    specs: list[str] = []
    changes: dict[str, str] = {}
    for part in (p.strip() for p in _part_boundary().split(text)):
        if not part:
            raise ConfigError(f"arm {text!r}: an empty part between '+'")
        if part.startswith(SET):
            for key, value in _changes(text, part[len(SET) :]):
                if key in changes:
                    raise ConfigError(f"arm {text!r}: {key} set twice")
                changes[key] = value
        else:
            try:
                specs.append(canonical(part))
            except ConfigError as exc:
                raise ConfigError(f"arm {text!r}: {exc}") from None
    name_parts = list(specs)
    if changes:
        name_parts.append(SET + ",".join(f"{k}={v}" for k, v in changes.items()))
    return Arm("+".join(name_parts), tuple(specs), tuple(changes.items()))


def _changes(text: str, body: str) -> list[tuple[str, str]]:
    specs = field_specs()
    out = []
    # a comma inside a tuple field's value (betas=0.9,0.98) joins back onto its field
    items: list[str] = []
    for item in body.split(","):
        if items and "=" not in item:  # a tuple field's next value (betas=0.9,0.98)
            items[-1] += "," + item
        else:
            items.append(item)
    for item in items:
        key, eq, value = (s.strip() for s in item.partition("="))
        if not eq or not key or not value:
            raise ConfigError(f"arm {text!r}: expected set:FIELD=VALUE[,...], got {item!r}")
        if key not in specs:
            raise ConfigError(
                f"arm {text!r}: unknown config field {key!r} (valid fields: "
                f"{', '.join(sorted(n for n in specs if n not in _NOT_SETTABLE))})"
            )
        if key in _NOT_SETTABLE:
            raise ConfigError(f"arm {text!r}: set:{key} is not allowed ({_NOT_SETTABLE[key]})")
        out.append((key, value))
    return out


def matched_controls(arm: Arm, baseline: RunConfig) -> list[Arm]:
    """The matched controls of `arm`: its config changes without its interventions (when it has
    both), and each intervention's own `matched_controls` (interventions/base.py)."""
    out = []
    if arm.interventions and arm.changes:
        name = SET + ",".join(f"{k}={v}" for k, v in arm.changes)
        out.append(Arm(name, (), arm.changes, arm.name, "without its interventions"))
    flat = arm.config(baseline).flat()
    for i, spec in enumerate(arm.interventions):
        name, values = parse(spec)
        for control in INTERVENTIONS[name].matched_controls(values, flat):
            specs = arm.interventions
            if control.specs is not None:
                specs = (*specs[:i], *canonical_specs(control.specs), *specs[i + 1 :])
            changes = tuple((dict(arm.changes) | dict(control.overrides)).items())
            out.append(
                Arm(f"{arm.name} [{control.label}]", specs, changes, arm.name, control.label)
            )
    return out


@dataclass
class ArmOutcome:
    arm: Arm
    configs: list[RunConfig]  # one per seed
    results: list[RunResult]  # one per seed, with metrics
    t_gen: list[int | None]
    t95: list[int | None]  # first step from which test accuracy stays ≥ 0.95
    steps: int  # the run length: the lower bound of a t_gen that never came
    seconds: float  # training seconds of its runs (an ensemble's seconds shared by its members)
    speedup: Speedup | None = None  # baseline median t_gen / this arm's

    @property
    def not_generalized(self) -> int:
        return sum(t is None for t in self.t_gen)

    def as_dict(self) -> dict:
        assert self.speedup is not None, "summarised by compare()"
        q = _quantiles(self.t_gen)
        q95 = _quantiles(self.t95)
        phases: dict[str, int] = {}
        for r in self.results:
            phases[r.events.phase] = phases.get(r.events.phase, 0) + 1
        return {
            "arm": self.arm.name,
            "control_of": self.arm.control_of,
            "matched": self.arm.matched or None,
            "interventions": list(self.arm.interventions),
            "changes": dict(self.arm.changes),
            "seeds": [c.train.seed for c in self.configs],
            "steps": self.steps,
            "t_gen": self.t_gen,
            "median_t_gen": q[1],
            "iqr": [q[0], q[2]],
            "t95": self.t95,
            "median_t95": q95[1],
            "iqr_t95": [q95[0], q95[2]],
            "speedup": _finite(self.speedup.value),
            "ci_low": _finite(self.speedup.low),
            "ci_high": _finite(self.speedup.high),
            "speedup_bound": self.speedup.bound,
            "not_generalized": self.not_generalized,
            "seconds": round(self.seconds, 3),
            "phases": phases,
            "run_ids": [r.record.id for r in self.results],
        }


def _quantiles(ts: Sequence[int | None]) -> tuple[float | None, float | None, float | None]:
    """q1, median, q3 with never (None) = ∞; a quantile that is ∞ is None."""
    xs = [math.inf if t is None else float(t) for t in ts]
    return tuple(_finite(quantile(xs, q)) for q in (0.25, 0.5, 0.75))  # type: ignore[return-value]


def _finite(x: float) -> float | None:
    return None if math.isinf(x) or math.isnan(x) else x


@dataclass
class Comparison:
    baseline: RunConfig
    baseline_name: str
    arms: list[ArmOutcome]  # the baseline first
    seeds: int
    seconds: float  # wall time of the comparison
    shards: list[int]  # members per ensemble shard trained (or fetched)
    device: str
    resamples: int
    extra: dict = field(default_factory=dict)

    def table(self) -> list[list[str]]:
        """The comparison as text cells, header first (stdout and the HTML report)."""
        return [TABLE_HEADER, *(_table_row(a.as_dict()) for a in self.arms)]

    def notes(self) -> list[str]:
        """How to read the table."""
        return [n.format(level=LEVEL, resamples=self.resamples) for n in NOTES]

    def as_dict(self) -> dict:
        return {
            "baseline": {"name": self.baseline_name, "config": self.baseline.canonical()},
            "arms": [a.as_dict() for a in self.arms],
            "seeds": self.seeds,
            "seconds": round(self.seconds, 3),
            "shards": self.shards,
            "device": self.device,
            "resamples": self.resamples,
        }


TABLE_HEADER = [
    "arm",
    "never",
    "median t_gen",
    "IQR t_gen",
    "median t95",
    "speed-up",
    "95% CI",
    "s",
]
NOTES = (
    "speed-up = baseline median t_gen / arm median t_gen; CI: {level:.0%} percentile bootstrap "
    "over {resamples:,} resamples of the seeds within each arm (fixed RNG seed).",
    "A seed that never generalized counts as t_gen = ∞ in medians and IQRs (shown as > the "
    "run's length) and as the run's length, a lower bound, in ratios: a speed-up marked ≥ or ≤ "
    "is a bound.",
    "t95: first step from which test accuracy stays ≥ 0.95. s: training seconds of the arm's "
    "runs (an ensemble's time shared evenly by its members).",
)


def _steps_text(value: float | None, length: int) -> str:
    return f"> {length:,}" if value is None else f"{value:,.0f}"


def _ratio_text(value: float | None) -> str:
    return "∞" if value is None else f"{value:.2f}"


def _table_row(r: dict) -> list[str]:
    n = r["steps"]
    mark = {None: "", "lower": "≥ ", "upper": "≤ ", "unknown": "? "}[r["speedup_bound"]]
    return [
        r["arm"],
        f"{r['not_generalized']}/{len(r['seeds'])}",
        _steps_text(r["median_t_gen"], n),
        f"[{_steps_text(r['iqr'][0], n)}, {_steps_text(r['iqr'][1], n)}]",
        _steps_text(r["median_t95"], n),
        mark + _ratio_text(r["speedup"]),
        f"[{_ratio_text(r['ci_low'])}, {_ratio_text(r['ci_high'])}]",
        f"{r['seconds']:.1f}",
    ]


def plan_arms(
    baseline: RunConfig, arms: Sequence[str | Arm], matched: bool = False, name: str = "baseline"
) -> list[Arm]:
    """The baseline arm, then each given arm (parsed) followed by its matched controls that are
    not already there (a control whose config another arm has is left out)."""
    given = [Arm(name)]
    for a in arms:
        arm = parse_arm(a) if isinstance(a, str) else a
        if any(arm.name == b.name for b in given):
            raise ConfigError(f"arm {arm.name!r} given twice (or named like the baseline)")
        arm.config(baseline)  # every mistake is found before anything trains
        given.append(arm)
    if not matched:
        return given
    out = [given[0]]
    ids = {arm.config(baseline).run_id() for arm in given}
    for arm in given[1:]:
        out.append(arm)
        for control in matched_controls(arm, baseline):
            cid = control.config(baseline).run_id()
            if cid not in ids:
                ids.add(cid)
                out.append(control)
    return out


def compare(
    baseline: RunConfig,
    arms: Sequence[str | Arm],
    seeds: int = 5,
    store: Store | None = None,
    device: torch.device | str | None = None,
    *,
    matched: bool = False,
    baseline_name: str = "baseline",
    workers: int | None = None,
    max_members: int | None = None,
    options: Options = DEFAULT_OPTIONS,
    resamples: int = RESAMPLES,
    say: Callable[[str], None] = lambda line: None,
    progress: bool = False,
) -> Comparison:
    """Train (or fetch) the baseline and every arm over seeds baseline.seed … +seeds−1 and
    summarise each arm against the baseline."""
    if seeds < 1:
        raise ConfigError(f"seeds: must be at least 1, got {seeds}")
    store = store if store is not None else Store()
    device = torch.device(device) if device is not None else default_device()
    planned = plan_arms(baseline, arms, matched, baseline_name)
    first = baseline.train.seed
    configs = {
        arm.name: [arm.config(baseline.replace(seed=s)) for s in range(first, first + seeds)]
        for arm in planned
    }
    say(
        f"{len(planned)} arms ({', '.join(a.name for a in planned)}) × {seeds} seeds "
        f"({first}–{first + seeds - 1})"
    )
    t0 = time.perf_counter()
    results, shards = _train(configs, store, device, workers, max_members, options, say, progress)
    wall = time.perf_counter() - t0
    outcomes = [_outcome(arm, configs[arm.name], results, store) for arm in planned]
    base = outcomes[0]
    for o in outcomes:
        o.speedup = speedup(base.t_gen, o.t_gen, base.steps, o.steps, resamples)
    return Comparison(
        baseline, baseline_name, outcomes, seeds, wall, shards, str(device), resamples
    )


def _train(configs, store, device, workers, max_members, options, say, progress):
    """Every distinct config once, grouped into ensembles; results by run id. Finished runs are
    read from the store here, without starting a worker for them."""
    distinct = list(dict.fromkeys(c for cs in configs.values() for c in cs))
    done = {}
    for cfg in distinct:
        record = store.get_run(cfg.run_id())
        if record is not None and record.status == "finished":
            done[record.id] = RunResult(
                record, events_of(record, store.metrics(record.id)), None, True
            )
    todo = [c for c in distinct if c.run_id() not in done]
    say(f"{len(distinct)} distinct runs, {len(done)} found finished in {store.path}")
    if not todo:
        return done, []
    groups = compatible_groups(todo)
    w = workers or (cpu_workers(len(todo)) if device.type == "cpu" else 1)
    shards = [
        shard
        for group in groups
        for shard in plan_shards(group, device, max_members, min_shards=min(w, len(group))).shards
    ]
    w = max(1, min(w, len(shards)))
    say(
        f"training {len(todo)} runs in {len(groups)} ensemble group(s), {len(shards)} shard(s) "
        f"[{', '.join(str(len(s)) for s in shards)}] on {device}, {w} worker process(es)"
    )
    callbacks, poller = [], None
    if progress:
        from phenolab.progress import ProgressBar, StorePoller

        steps = max(c.train.steps for c in todo)
        if w > 1:
            poller = StorePoller(store, [c.run_id() for c in todo], steps)
        else:
            callbacks = [ProgressBar(steps)]
    trained = run_shards(shards, store, device, w, callbacks, options, poller)
    if poller:
        poller.finish()
    return done | {r.record.id: r for r in trained}, [len(s) for s in shards]


def _outcome(arm: Arm, configs: list[RunConfig], results: dict, store: Store) -> ArmOutcome:
    rs = []
    t95 = []
    seconds = 0.0
    for cfg in configs:
        r = results[cfg.run_id()]
        r.metrics = r.metrics or store.metrics(r.record.id)
        steps, test_acc = r.metrics["test/acc"]
        t95.append(first_sustained(steps, test_acc, T95))
        # an ensemble's training time is recorded with each member: share it out
        seconds += r.record.seconds / max(1, int(r.record.env.get("ensemble_members", 1)))
        rs.append(r)
    return ArmOutcome(
        arm,
        configs,
        rs,
        [r.events.t_gen for r in rs],
        t95,
        max(c.train.steps for c in configs),
        seconds,
    )
