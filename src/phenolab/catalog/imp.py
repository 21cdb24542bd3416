"""Iterative magnitude pruning (IMP) with rewinding, round by round, every round ordinary stored
runs (Frankle & Carbin 2019, "The Lottery Ticket Hypothesis", Algorithm 1; Frankle et al. 2020,
"Linear Mode Connectivity and the Lottery Ticket Hypothesis", rewinding to step k).

Round 0 trains the dense network. Round r ≥ 1 is a ticket of round r − 1 (`ticket_from`): it
prunes `rate` of the weights round r − 1 kept, by their final magnitude (a fraction
1 − (1 − rate)^r pruned in all), rewinds the rest and trains again. Rewinding to init goes back
to round 0's initialisation; rewinding to step k takes round 0's weights after step k in round
1 (round 0 keeps them: `keep_checkpoint_at`) and, from round 2 on, the previous round's start,
which is that same θ_k. The controls of each round train under the round's mask with a fresh
initialisation ("reinit") and under a random mask with the same count per tensor ("random");
they are ticket runs of the same parent, so they share its mask's per-tensor sparsity. A
finished run is found in the store, so an interrupted IMP picks up where it stopped.

Two ways to run it, with the same run ids: `imp()` (the `phenolab imp` command) trains round
after round, each round's tickets and controls over every seed as one batch of ensembles; and
`imp_arms()` spells the rounds as catalog arms chained by `parent` (link "ticket_from"), which
`reproduce` trains stage by stage, one stage per round. The rest of the module reads an IMP
outcome: accuracy at the early-stopping iteration per round, how deep the tickets keep matching
the dense network, and the figure of Frankle & Carbin 2019 (Fig. 3–4): accuracy and
early-stopping step against the fraction of weights remaining.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from phenolab.analysis.tickets import early_stop, matching_depth, standard_error
from phenolab.catalog.entry import Arm, Measured, Outcome
from phenolab.config import RunConfig, from_json
from phenolab.errors import ConfigError
from phenolab.interventions.masks import sparsity_of
from phenolab.runner import DEFAULT_OPTIONS, Options, RunResult, default_device
from phenolab.store import Store
from phenolab.sweep.local import run_configs
from phenolab.tickets import imp_sparsity, run_mask

CONTROLS = {"reinit": {"reinit": True, "rewind": "init"}, "random": {"mask_kind": "random"}}


def round_fields(r: int, rate: float, scope: str, rewind: str | int) -> dict:
    """The ticket fields of round r ≥ 1 (all but ticket_from): the total sparsity after r
    rounds, the scope, and the rewind point (step k in round 1 only: later rounds rewind to
    their parent's start, which is θ_k)."""
    return {
        "sparsity": imp_sparsity(rate, r),
        "prune_scope": scope,
        "rewind": rewind if r == 1 else "init",
    }


def keeping(cfg: RunConfig, rewind: str | int) -> RunConfig:
    """The dense round's config: `cfg`, keeping its weights at step k when rounds rewind to k."""
    if str(rewind).strip().lower() == "init":
        return cfg
    return cfg.replace(keep_checkpoint_at=(*cfg.train.keep_checkpoint_at, int(rewind)))


def _check(
    rounds: int, rate: float, controls: Sequence[str], rewind: str | int, steps: int
) -> None:
    if rounds < 1:
        raise ConfigError(f"rounds: must be at least 1, got {rounds}")
    if not 0 < rate < 1:
        raise ConfigError(f"rate: the fraction pruned per round must be in (0, 1), got {rate}")
    unknown = sorted(set(controls) - set(CONTROLS))
    if unknown:
        raise ConfigError(f"controls: unknown {unknown} (valid: {', '.join(CONTROLS)})")
    point = str(rewind).strip().lower()
    if point != "init" and not point.isdigit():
        raise ConfigError(f"rewind: expected init or a step k ≥ 0, got {rewind!r}")
    if point != "init" and int(point) > steps:
        raise ConfigError(f"rewind: step {rewind} is beyond the run's {steps} steps")


# -- IMP as a command: round after round -------------------------------------------------------


@dataclass
class ImpRound:
    round: int  # 0: the dense network
    sparsity: list[float]  # fraction of the prunable weights pruned, per seed (from the masks)
    runs: dict[str, list[RunResult]]  # "ticket" (round 0: the dense run) and controls, per seed

    def final_test_acc(self, arm: str = "ticket") -> list[float]:
        return [r.events.final_test_acc for r in self.runs[arm]]

    def t_gen(self, arm: str = "ticket") -> list[int | None]:
        return [r.events.t_gen for r in self.runs[arm]]

    def early_stop(self, arm: str = "ticket") -> list[tuple[int, float]]:
        """(early-stopping step, test accuracy there) per seed (analysis/tickets.py)."""
        return [early_stop(r.metrics) for r in self.runs[arm]]

    def as_dict(self) -> dict:
        return {
            "round": self.round,
            "sparsity": self.sparsity,
            "arms": {
                arm: {
                    "run_ids": [r.record.id for r in runs],
                    "final_test_acc": self.final_test_acc(arm),
                    "early_stop_step": [s for s, _ in self.early_stop(arm)],
                    "early_stop_acc": [a for _, a in self.early_stop(arm)],
                    "t_gen": self.t_gen(arm),
                }
                for arm, runs in self.runs.items()
            },
        }


def as_outcome(rounds: Sequence[ImpRound]) -> Outcome:
    """The rounds of `imp()` under the arm names of `imp_arms()` ("dense", "ticket r1", "reinit
    r1", ...), for the read-outs below."""
    out: Outcome = {"dense": rounds[0].runs["ticket"]}
    for r in rounds[1:]:
        out |= {arm_name(kind, r.round): runs for kind, runs in r.runs.items()}
    return out


def imp(
    base: RunConfig,
    store: Store,
    rounds: int,
    rate: float = 0.2,
    scope: str = "global",
    rewind: str | int = "init",
    seeds: Sequence[int] = (0,),
    controls: Sequence[str] = ("reinit", "random"),
    device: torch.device | str | None = None,
    options: Options = DEFAULT_OPTIONS,
    workers: int | None = None,
    on_round: Callable[[ImpRound], None] | None = None,
) -> list[ImpRound]:
    """Rounds 0 … `rounds` of IMP from `base` (its seed replaced by each of `seeds`): per round
    the measured sparsity and each arm's runs (see the module docstring). Each round trains as
    ensembles over `workers` processes (default: one per CPU core on CPU); `on_round(ImpRound)`
    is called as each round finishes."""
    _check(rounds, rate, controls, rewind, base.train.steps)
    device = torch.device(device) if device is not None else default_device()
    own = [base.replace(seed=s) for s in seeds]
    dense = run_configs([keeping(c, rewind) for c in own], store, device, workers, options)
    out = [ImpRound(0, [0.0] * len(own), {"ticket": dense})]
    if on_round:
        on_round(out[-1])
    for r in range(1, rounds + 1):
        fields = round_fields(r, rate, scope, rewind)
        tickets = [
            c.replace(ticket_from=parent.record.id, **fields)
            for c, parent in zip(own, out[-1].runs["ticket"], strict=True)
        ]
        arms = {"ticket": tickets} | {
            name: [t.replace(**CONTROLS[name]) for t in tickets] for name in controls
        }
        every = [c for cs in arms.values() for c in cs]
        results = dict(zip(every, run_configs(every, store, device, workers, options), strict=True))
        runs = {name: [results[c] for c in cs] for name, cs in arms.items()}
        sparsity = [float(sparsity_of(run_mask(store, t.record.id))[0]) for t in runs["ticket"]]
        out.append(ImpRound(r, sparsity, runs))
        if on_round:
            on_round(out[-1])
    return out


# -- IMP as catalog arms ---------------------------------------------------------------------


def arm_name(kind: str, r: int) -> str:
    """The arm of round r of a chain or control: 'ticket r3', 'random r3'."""
    return f"{kind} r{r}"


def control_kind(chain: str, control: str) -> str:
    """A control's arm kind: the control's name for the chain 'ticket', else 'chain/control'."""
    return control if chain == "ticket" else f"{chain}/{control}"


def dense_arm(
    base: RunConfig,
    quick: RunConfig | None,
    rewinds: Sequence[str | int] = ("init",),
    name: str = "dense",
) -> Arm:
    """Round 0: the dense network, keeping its weights at every step k some chain rewinds to."""

    def keep_all(cfg: RunConfig) -> RunConfig:
        for rewind in rewinds:
            cfg = keeping(cfg, rewind)
        return cfg

    return Arm(name, keep_all(base), keep_all(quick) if quick is not None else None)


def imp_arms(
    base: RunConfig,
    quick: RunConfig | None,
    rounds: int,
    rate: float = 0.2,
    scope: str = "global",
    rewind: str | int = "init",
    controls: Sequence[str] = ("reinit", "random"),
    chain: str = "ticket",
    dense: str = "dense",
) -> tuple[Arm, ...]:
    """Rounds 1 … `rounds` of one IMP chain as catalog arms: `arm_name(chain, r)` is a ticket
    of round r − 1's (round 0: the arm `dense`, see `dense_arm`), and each control of round r
    (`arm_name(control_kind(chain, c), r)`) a ticket of the same parent. `reproduce` trains
    them round by round (its stages follow the parent chain), with the run ids of `imp()`."""
    _check(rounds, rate, controls, rewind, base.train.steps)
    arms = []
    for r in range(1, rounds + 1):
        parent = dense if r == 1 else arm_name(chain, r - 1)
        fields = round_fields(r, rate, scope, rewind)
        kinds = [(chain, {})] + [(control_kind(chain, c), CONTROLS[c]) for c in controls]
        for kind, extra in kinds:
            changes = {**fields, **extra}
            arms.append(
                Arm(
                    arm_name(kind, r),
                    base.replace(**changes),
                    quick.replace(**changes) if quick is not None else None,
                    parent=parent,
                    link="ticket_from",
                )
            )
    return tuple(arms)


# -- reading an IMP outcome ---------------------------------------------------------------------


class MissingCurves(LookupError):
    """A run of the outcome has no test loss and accuracy curves to read."""


def readout(measure):
    """An expectation's measure that is unknown (INCONCLUSIVE, with the reason) when some run
    lacks its curves."""

    @functools.wraps(measure)
    def wrapper(*args, **kwargs) -> Measured:
        try:
            return measure(*args, **kwargs)
        except MissingCurves as exc:
            return Measured(None, note=str(exc))

    return wrapper


def remaining(outcome: Outcome, arm: str) -> float:
    """Fraction of the prunable weights an arm's runs keep (1 − their configured sparsity)."""
    return 1 - outcome[arm][0].record.config["train"].get("sparsity", 0.0)


def _early_stops(outcome: Outcome, arm: str) -> list[tuple[int, float]]:
    for r in outcome[arm]:
        if not r.metrics or "test/loss" not in r.metrics or "test/acc" not in r.metrics:
            raise MissingCurves(f"{arm}: a run without test loss and accuracy curves")
    return [early_stop(r.metrics) for r in outcome[arm]]


def early_stop_accs(outcome: Outcome, arm: str) -> list[float]:
    """Test accuracy at the early-stopping step, per seed."""
    return [acc for _, acc in _early_stops(outcome, arm)]


def early_stop_steps(outcome: Outcome, arm: str) -> list[int]:
    """The early-stopping step (minimum test loss), per seed."""
    return [step for step, _ in _early_stops(outcome, arm)]


def median_acc(outcome: Outcome, arm: str) -> float:
    """Median over seeds of the test accuracy at the early-stopping iteration."""
    return statistics.median(early_stop_accs(outcome, arm))


@functools.lru_cache(maxsize=16)
def test_size(cfg: RunConfig) -> int:
    """Examples in a run's test set (built once from its task)."""
    from phenolab.tasks import modular

    data = modular.build([cfg.task], cfg.model.model, [cfg.train.seed])
    mask = data.test_mask
    return int(mask[0].sum()) if mask is not None else int(data.y_test.shape[1])


def match_bar(outcome: Outcome, dense: str = "dense") -> tuple[float, float, float]:
    """(bar, dense accuracy, its standard error): a subnetwork matches the dense network when
    its median early-stop accuracy is ≥ bar = dense median − one binomial standard error on
    the test set (analysis/tickets.py)."""
    acc = median_acc(outcome, dense)
    se = standard_error(acc, test_size(from_json(outcome[dense][0].record.config)))
    return acc - se, acc, se


def _budget(outcome: Outcome, arm: str) -> int:
    """The last evaluated step of an arm's runs."""
    return max(r.metrics["test/loss"][0][-1] for r in outcome[arm])


def chain_rounds(outcome: Outcome, kind: str) -> list[str]:
    """The arms `kind r1`, `kind r2`, … present in an outcome, in order."""
    names, r = [], 1
    while arm_name(kind, r) in outcome:
        names.append(arm_name(kind, r))
        r += 1
    return names


@readout
def matching_remaining(outcome: Outcome, kind: str, dense: str = "dense") -> Measured:
    """The smallest fraction of weights remaining down to which every round of `kind` matches
    the dense network (see match_bar). When even the last round matches, the fraction is only
    bounded: at most the last round's. When round 1 does not match, it is 1 (the dense net)."""
    names = chain_rounds(outcome, kind)
    bar, acc, se = match_bar(outcome, dense)
    depth = matching_depth([median_acc(outcome, a) for a in names], bar)
    note = f"{kind} matches down to round {depth} of {len(names)} (dense {acc:.3f} ± {se:.3f})"
    last = {a: _budget(outcome, a) for a in names}
    cut = [a for a in names if statistics.median(early_stop_steps(outcome, a)) >= last[a]]
    if cut:  # still improving when training ended: the step budget decides these rounds
        note += f"; {len(cut)} round(s) reach their minimum test loss only at the last step"
        note += f" (first: {cut[0]})"
    if depth == len(names):
        return Measured(None, upper=remaining(outcome, names[-1]), note=note)
    return Measured(remaining(outcome, names[depth - 1]) if depth else 1.0, note=note)


@readout
def matching_rounds_gap(outcome: Outcome, kind: str, other: str, dense: str = "dense") -> Measured:
    """Rounds `kind` keeps matching the dense network beyond `other` (matching_depth of kind −
    that of other); a lower bound when `kind` matches to the last round."""
    bar, _, _ = match_bar(outcome, dense)
    depths = {
        k: matching_depth([median_acc(outcome, a) for a in chain_rounds(outcome, k)], bar)
        for k in (kind, other)
    }
    gap = depths[kind] - depths[other]
    note = f"{kind} matches to round {depths[kind]}, {other} to round {depths[other]}"
    if depths[kind] == len(chain_rounds(outcome, kind)):
        return Measured(None, lower=gap, note=note + " (the last)")
    return Measured(float(gap), note=note)


@readout
def accuracy_gap(outcome: Outcome, arm: str, reference: str) -> Measured:
    """Median early-stop accuracy of `arm` minus that of `reference` (points of accuracy)."""
    a, b = median_acc(outcome, arm), median_acc(outcome, reference)
    return Measured(a - b, note=f"{arm} {a:.3f}, {reference} {b:.3f}")


@readout
def mean_accuracy_gap(outcome: Outcome, arms: Sequence[str], reference: str) -> Measured:
    """Mean over `arms` of (median early-stop accuracy − that of `reference`)."""
    gaps = {a: median_acc(outcome, a) - median_acc(outcome, reference) for a in arms}
    note = ", ".join(f"{a} {g:+.3f}" for a, g in gaps.items())
    return Measured(statistics.fmean(gaps.values()), note=note)


@readout
def early_stop_ratio(outcome: Outcome, arm: str, reference: str) -> Measured:
    """Median early-stopping step of `arm` over that of `reference`."""
    a = statistics.median(early_stop_steps(outcome, arm))
    b = statistics.median(early_stop_steps(outcome, reference))
    return Measured(a / b, note=f"{arm} {a:g}, {reference} {b:g} steps")


def _percent(fraction: float, _=None) -> str:
    """100 %, 41 %, 6.9 %, 1.2 %: an axis label of a fraction of weights remaining."""
    return f"{100 * fraction:.0f} %" if fraction >= 0.1 else f"{100 * fraction:.2g} %"


def imp_figures(outcome: Outcome, kinds: Sequence[str], dense: str = "dense"):
    """Frankle & Carbin 2019, Fig. 3–4: per arm kind (a chain or a control), the median over
    seeds (with the seeds' range) of the test accuracy at the early-stopping iteration (left)
    and of that iteration (right) against the fraction of weights remaining (log axis, pruning
    to the right); the dense network as a horizontal line with its match band."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullLocator

    bar, acc, se = match_bar(outcome, dense)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    dense_step = statistics.median(early_stop_steps(outcome, dense))
    for ax, value, label in ((left, acc, "dense"), (right, dense_step, "dense")):
        ax.axhline(value, color="k", lw=1.2, label=label)
    left.axhspan(bar, acc + se, color="k", alpha=0.08, label="dense ± 1 s.e. (match band)")
    ticks = [1.0]
    for kind in kinds:
        names = chain_rounds(outcome, kind)
        if not names:
            continue
        names = [dense, *names]  # every curve starts at the dense network (100 %)
        x = [remaining(outcome, a) for a in names]
        ticks = max(ticks, x, key=len)
        for ax, values in (
            (left, [early_stop_accs(outcome, a) for a in names]),
            (right, [early_stop_steps(outcome, a) for a in names]),
        ):
            line = ax.plot(x, [statistics.median(v) for v in values], marker="o", ms=3, label=kind)
            ax.fill_between(
                x,
                [min(v) for v in values],
                [max(v) for v in values],
                color=line[0].get_color(),
                alpha=0.15,
            )
    for ax, ylabel in (
        (left, "test accuracy at early stop"),
        (right, "early-stopping step (min test loss)"),
    ):
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set_xticks(ticks[:: math.ceil(len(ticks) / 8)], minor=False)
        ax.xaxis.set_major_formatter(FuncFormatter(_percent))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("weights remaining")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    right.axhline(_budget(outcome, dense), color="0.5", ls=":", lw=1, label="end of training")
    right.set_yscale("log")
    right.legend(fontsize=8)
    left.legend(fontsize=8)
    fig.tight_layout()
    return [
        (
            "IMP: test accuracy at the early-stopping iteration (left) and that iteration "
            "(right) against the fraction of weights remaining; lines are medians over seeds, "
            "bands their range; the black line is the dense network (grey: its match band)",
            fig,
        )
    ]
