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
`reproduce` trains stage by stage, one stage per round. catalog/imp_measures.py reads the
outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from phenolab.analysis.tickets import early_stop
from phenolab.catalog.entry import Arm, Outcome
from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.interventions.masks import sparsity_of
from phenolab.run import (
    DEFAULT_OPTIONS,
    Options,
    Progress,
    RunResult,
    imp_sparsity,
    resolve_device,
    run_mask,
    train_configs,
)
from phenolab.store import Store

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
    return cfg.replace(keep_checkpoint_at=(*cfg.start.keep_checkpoint_at, int(rewind)))


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
    r1", ...), for the read-outs of catalog/imp_measures.py."""
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
    on_progress: Callable[[Progress], None] | None = None,
) -> list[ImpRound]:
    """Rounds 0 … `rounds` of IMP from `base` (its seed replaced by each of `seeds`): per round
    the measured sparsity and each arm's runs (see the module docstring). Each round trains as
    ensembles over `workers` processes (default: one per CPU core on CPU); `on_round(ImpRound)`
    is called as each round finishes."""
    _check(rounds, rate, controls, rewind, base.train.steps)
    device = resolve_device(device)
    own = [base.replace(seed=s) for s in seeds]

    def train(configs: list[RunConfig]) -> list[RunResult]:
        return train_configs(
            configs, store, device, workers=workers, options=options, on_progress=on_progress
        )

    dense = train([keeping(c, rewind) for c in own])
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
        results = dict(zip(every, train(every), strict=True))
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
