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
(the same final weight norm for a ticket) would be a second stage in `harness.compare`, after
the first `_train`: none exists yet.

All configs of all arms are trained as few ensembles as their fields allow (sweep grouping:
members may differ in MEMBER_FIELDS, interventions included when their ids agree), and stored:
an identical config is found in the store, an interrupted one resumes.

    arms.py     arm specs, matched controls, the planned arms
    summary.py  per-arm statistics, the table and the JSON
    harness.py  `compare()`: train every arm over the seeds as ensembles and summarise
"""

from phenolab.compare.arms import Arm, matched_controls, parse_arm, plan_arms
from phenolab.compare.harness import compare
from phenolab.compare.summary import ArmOutcome, Comparison

__all__ = [
    "Arm",
    "ArmOutcome",
    "Comparison",
    "compare",
    "matched_controls",
    "parse_arm",
    "plan_arms",
]
