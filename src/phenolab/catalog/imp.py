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
they are ticket runs of the same parent, so they share its mask's per-tensor sparsity. All runs
of a round (tickets and controls, every seed) train as one ensemble; a finished run is found in
the store, so an interrupted IMP picks up where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.interventions.masks import sparsity_of
from phenolab.runner import DEFAULT_OPTIONS, Options, RunResult, run_ensemble
from phenolab.store import Store
from phenolab.tickets import imp_sparsity, run_mask

CONTROLS = {"reinit": {"reinit": True, "rewind": "init"}, "random": {"mask_kind": "random"}}


@dataclass
class ImpRound:
    round: int  # 0: the dense network
    sparsity: list[float]  # fraction of the prunable weights pruned, per seed (from the masks)
    runs: dict[str, list[RunResult]]  # "ticket" (round 0: the dense run) and controls, per seed

    def final_test_acc(self, arm: str = "ticket") -> list[float]:
        return [r.events.final_test_acc for r in self.runs[arm]]

    def t_gen(self, arm: str = "ticket") -> list[int | None]:
        return [r.events.t_gen for r in self.runs[arm]]

    def as_dict(self) -> dict:
        return {
            "round": self.round,
            "sparsity": self.sparsity,
            "arms": {
                arm: {
                    "run_ids": [r.record.id for r in runs],
                    "final_test_acc": self.final_test_acc(arm),
                    "t_gen": self.t_gen(arm),
                }
                for arm, runs in self.runs.items()
            },
        }


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
) -> list[ImpRound]:
    """Rounds 0 … `rounds` of IMP from `base` (its seed replaced by each of `seeds`): per round
    the measured sparsity and each arm's runs (see the module docstring)."""
    if rounds < 1:
        raise ConfigError(f"rounds: must be at least 1, got {rounds}")
    unknown = sorted(set(controls) - set(CONTROLS))
    if unknown:
        raise ConfigError(f"controls: unknown {unknown} (valid: {', '.join(CONTROLS)})")
    own = [base.replace(seed=s) for s in seeds]
    dense = own
    if str(rewind) != "init":  # round 0 keeps θ_k for round 1
        dense = [c.replace(keep_checkpoint_at=(*c.train.keep_checkpoint_at, rewind)) for c in own]
    out = [
        ImpRound(0, [0.0] * len(dense), {"ticket": run_ensemble(dense, store, device, (), options)})
    ]
    for r in range(1, rounds + 1):
        tickets = [
            c.replace(
                ticket_from=parent.record.id,
                sparsity=imp_sparsity(rate, r),
                prune_scope=scope,
                rewind=rewind if r == 1 else "init",
            )
            for c, parent in zip(own, out[-1].runs["ticket"], strict=True)
        ]
        arms = {"ticket": tickets} | {
            name: [t.replace(**CONTROLS[name]) for t in tickets] for name in controls
        }
        results = run_ensemble([c for cs in arms.values() for c in cs], store, device, (), options)
        runs, i = {}, 0
        for name, cs in arms.items():
            runs[name], i = results[i : i + len(cs)], i + len(cs)
        sparsity = [float(sparsity_of(run_mask(store, t.record.id))[0]) for t in runs["ticket"]]
        out.append(ImpRound(r, sparsity, runs))
    return out
