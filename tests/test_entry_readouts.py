"""Every built-in catalog entry's read-outs on constructed outcomes, in both directions (issue 16
item 7): for each entry an outcome built by hand — finished runs of the entry's own arm configs
with the events, curves or analysis values given, no training — on which every expectation
PASSes, and per expectation a minimal change (one or two arms) on which it FAILs; where a
read-out can be undecided, an outcome on which it is INCONCLUSIVE. The verdicts come from the
entries' own code through `reproduce.judge`, the function `phenolab reproduce` calls; one test
writes runs into a Store and runs `phenolab reproduce` itself, which trains nothing.
`test_every_built_in_expectation_is_tested_in_both_directions` fails for an entry or an
expectation without its case here.

Inventory (2026-12-07), entry: expectations — what tested them before this file ("some
verdict": only tests/test_catalog.py::test_every_shipped_entry_is_complete_and_its_configs_are_
valid, which checks that a verdict comes back). Every expectation listed now has a PASS and a
FAIL case here, except the two entries marked "both directions elsewhere" (ELSEWHERE below).

ainsworth2023-rebasin: naive-barrier, matching-removes-barrier, wider-matches-better
    — test_lmc_entries.py: an end-to-end smoke run (PASS or FAIL, either) and INCONCLUSIVE
    without the analysis; no directed PASS or FAIL.
barak2022-sparse-parity: learns, long-plateau, late-drop, abrupt-drop, hidden-before-drop,
    hidden-rises — test_parity.py: the measures' values on one constructed curve (on which
    late-drop would FAIL); no verdicts.
belkin2019-minnorm: peak-at-threshold, second-descent, interpolation-beats-classical
    — test_doubledescent_entries.py: the first two PASS and FAIL; the third only its value on
    a passing curve; all INCONCLUSIVE without the curve.
chughtai2023-groups: s5-generalizes, d59-generalizes, s5-late, d59-late, d59-few-irreps
    — test_groups.py: delay_ratio and irrep_key_fraction values; no verdicts.
curth2023-uturn: peff-falls-past-threshold, error-follows-peff, no-second-descent-against-peff
    — test_doubledescent_entries.py: all PASS; FAIL for the first and the third only.
frankle2019-lenet: better-than-dense-to-21%, match-to-3.6%, match-to-2%-mnist1d, learn-faster,
    reinit-degrades-earlier, random-mask-collapses — both directions elsewhere
    (test_imp.py: all PASS on the published pattern, all FAIL on its opposite).
frankle2020-lmc: lenet-stable-at-init, stable-early — test_lmc_entries.py: smoke run and
    INCONCLUSIVE without the analysis; no directed PASS or FAIL.
frankle2020-rewind: rewind-k-matches-to-16.8%, late-rewinding-beats-init,
    random-pruning-fails-earlier — test_imp.py: all PASS, late-rewinding INCONCLUSIVE; no FAIL.
furuta2024-transfer: source-groks, transfers-to-linear, not-to-polynomial — some verdict.
huang2024-phase-diagram: critical-fraction-falls, memorization-only-below, capacity-grows,
    delay-shrinks-with-data — test_phase_entries.py: critical-fraction-falls PASS and
    INCONCLUSIVE, memorization-only-below FAIL, delay-shrinks PASS, capacity-grows a value.
jeffares2025-primes: tracks-test-accuracy, just-the-norm — some verdict.
jeffares2025-primes-dd: tracks-test-error — test_fidelity.py: PASS only.
lee2024-grokfast (TOML): published-speedup, speedup-same-decay, speedup-same-step,
    first-95-ma, first-95-ema — test_prereg.py: the vocabulary's t_gen_ratio and
    first_steps_to PASS and FAIL on a generic outcome, not this file's expectations.
liu2023-norm-constraint: baseline-groks, 0.8-no-delay, goldilocks-no-delay — some verdict.
liu2023-omnigrok: later-with-large-init, goldilocks-norm, memorizes-first
    — test_catalog_init_and_data.py: goldilocks_distance's value; no verdicts.
liu2023-omnigrok-images: {digits,mnist1d}-large-init-generalizes-late,
    {digits,mnist1d}-standard-init-no-delay, {digits,mnist1d}-norm-falls-as-test-rises
    — some verdict.
minegishi2024-tickets: ticket-sooner, delay-shrinks, not-the-norm, not-the-sparsity,
    groks-without-decay — some verdict.
nakkiran2021-epoch-wise: rise, second-descent, peak-at-interpolation
    — test_deep_double_descent.py: all PASS, INCONCLUSIVE without curves; no FAIL.
nakkiran2021-model-wise: peak, peak-at-threshold, second-descent, wide-matches-narrow
    — test_deep_double_descent.py: all PASS; peak FAIL, second-descent INCONCLUSIVE.
nakkiran2021-ridge: tuned-monotone, min-norm-peaks — both directions elsewhere
    (test_doubledescent_entries.py::test_nakkiran_measures).
nakkiran2021-sample-wise: more-data-hurts, hurts-at-threshold — some verdict.
nanda2023-addition: groks, phases-in-order, excluded-rises, train-stays-fit, restricted-leads,
    norm-drops-in-cleanup, sparsity-before-gen, few-frequencies, logits-in-key-frequencies
    — test_nanda2023.py: the per-seed measures' values; no verdicts.
power2022-data-fraction: steep-rise, monotone, enough-data-generalizes — some verdict.
power2022-operations: rank-agreement, easiest-before-hardest — test_power_operations.py:
    easiest-before-hardest FAIL, rank-agreement INCONCLUSIVE, both read-outs' values.
power2022-weight-decay: decay-generalizes, no-decay-much-later — some verdict.
prieto2025-stablemax: softmax-collapses, softmax-no-grokking, stablemax-groks, orthograd-fast
    — some verdict.
schaeffer2023-metrics (TOML): logprob-wider, brier-wider — some verdict (the vocabulary's
    width_ratio was tested nowhere).
tian2025-li2: above-boundary-generalizes, below-boundary-memorizes, lazy-output-moves-more,
    lazy-hidden-near-init — test_catalog_init_and_data.py: the read-outs' values; no verdicts.
tveit2025-muon (TOML): muon-sooner, muon-groks — test_prereg.py: share_generalized PASS and
    FAIL on a generic outcome; steps_to_ratio tested nowhere.
varma2023-ungrokking: parent-grokked, ungrokks, keeps-train, above-dcrit-stays,
    monotone-in-size, semi-grokking — test_phase_entries.py: all PASS; FAIL for
    above-dcrit-stays and monotone-in-size only.
xu2025-groktransfer: sooner-than-scratch, no-delay, surpasses-weak, not-the-low-rank
    — some verdict.

No read-out was found that cannot FAIL or cannot PASS. One is conservative: a median t_gen
(or steps-to) over seeds of which a minority never generalized is reported as a lower bound
although the median is then known exactly (the censored seeds all lie above the budget), so an
expectation "median ≤ x" or a ratio with such a numerator is INCONCLUSIVE where PASS or FAIL
is decided (readouts.median_t_gen, _censored_median).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import pytest

from phenolab.analysis.events import Events
from phenolab.catalog import ENTRIES, all_entries, get
from phenolab.catalog.entries import (
    belkin2019,
    huang2024,
    nakkiran2021_model_wise,
    nakkiran2021_sample_wise,
    power2022,
    tian2025,
)
from phenolab.catalog.reproduce import arm_configs, judge
from phenolab.config import RunConfig
from phenolab.run import RunResult
from phenolab.store import RunRecord

# -- constructed outcomes ------------------------------------------------------------------------


def finished(
    config: RunConfig,
    t_gen: int | None = None,
    *,
    t_fit: int | None = 10,
    phase: str | None = None,
    train: float = 1.0,
    test: float | None = None,
    curves: dict | None = None,
    derived: dict | None = None,
) -> RunResult:
    """A finished run of `config` as `phenolab reproduce` hands it to an entry's read-outs (its
    record holds the config's JSON, as the store does), with the events and curves given: no
    training. The phase defaults to grokking when it generalized, memorization when it only
    fitted, confusion when it did not even fit; the final test accuracy to 1.0 / 0.01."""
    if phase is None:
        phase = "confusion" if t_fit is None else "memorization" if t_gen is None else "grokking"
    test = test if test is not None else 1.0 if t_gen is not None else 0.01
    both = t_fit is not None and t_gen is not None
    events = Events(
        t_fit,
        t_gen,
        t_gen - t_fit if both else None,
        t_gen / t_fit if both and t_fit else None,
        train,
        test,
        phase,
    )
    record = RunRecord(config.run_id(), config.to_json(), "finished", 0.0, 0.0, 0.0, {}, None)
    return RunResult(record, events, None, True, curves, dict(derived or {}))


def _per_seed(spec, seeds: int) -> list[dict]:
    """An arm's spec, one dict of `finished` arguments per seed: a dict (every seed alike) or a
    list with one t_gen (None: never) or dict per seed."""
    assert spec is not None, "an arm without a spec (and no default)"
    if isinstance(spec, dict):
        return [spec] * seeds
    assert len(spec) == seeds, spec
    return [s if isinstance(s, dict) else {"t_gen": s} for s in spec]


@functools.cache
def _arm_configs(entry_id: str, quick: bool, seeds: int) -> dict:
    """The entry's arm configs per seed (built once: configs are immutable)."""
    return arm_configs(get(entry_id), quick, seeds)


@dataclass
class Case:
    """An entry's constructed outcome on which every expectation PASSes (`base`: arm → spec,
    `default` for the arms it leaves out), and per expectation the change of a few arms that
    makes it FAIL (`fails`) or INCONCLUSIVE (`inconclusive`)."""

    entry: str
    base: dict
    fails: dict
    default: object = None
    inconclusive: dict = field(default_factory=dict)
    quick: bool = True
    seeds: int = 3

    def outcome(self, change: dict | None = None) -> dict:
        specs = {**self.base, **(change or {})}
        arms = _arm_configs(self.entry, self.quick, self.seeds)
        unknown = set(specs) - set(arms)
        assert not unknown, f"{self.entry}: no arms {unknown}"
        return {
            arm: [
                finished(c, **kw)
                for c, kw in zip(
                    configs, _per_seed(specs.get(arm, self.default), self.seeds), strict=True
                )
            ]
            for arm, configs in arms.items()
        }


def verdicts(entry_id: str, outcome: dict) -> dict[str, str]:
    """Each expectation's verdict, judged by the function `phenolab reproduce` calls."""
    return {x.id: judge(x, outcome).verdict for x in get(entry_id).expectations}


def grid(end: int, every: int) -> list[int]:
    return list(range(0, end + 1, every))


def reaching(at: int | None, end: int, every: int = 50, low: float = 0.3) -> dict:
    """test/acc (and train/acc, fitted from the first evaluation on) that jumps from `low` to
    1.0 at step `at` and stays there (None: never)."""
    steps = grid(end, every)
    test = [1.0 if at is not None and s >= at else low for s in steps]
    return {"test/acc": (steps, test), "train/acc": (steps, [1.0] * len(steps))}


def grok(t_gen: int | None, end: int, **kw) -> dict:
    """Events and accuracy curves that agree: test accuracy reaches 1.0 at t_gen."""
    return {"t_gen": t_gen, "curves": reaching(t_gen, end), **kw}


def ramp(steps, start: int, stop: int, a: float, b: float) -> list[float]:
    """a until `start`, then linearly to b at `stop`, then b."""
    return [
        a if s <= start else b if s >= stop else a + (b - a) * (s - start) / (stop - start)
        for s in steps
    ]


CASES: dict[str, Case] = {}


def case(c: Case) -> Case:
    CASES[c.entry] = c
    return c


# -- experiment files (TOML) ----------------------------------------------------------------------

case(
    Case(
        "tveit2025-muon",
        base={"adamw": grok(600, 3000), "muon": grok(300, 3000)},
        fails={
            "muon-sooner": {"muon": grok(550, 3000)},  # 600 / 550 < 1.2
            "muon-groks": {"muon": [grok(300, 3000), grok(None, 3000), grok(None, 3000)]},
        },
        # neither arm reaches 0.95: both medians only bounded below, the ratio unknown
        inconclusive={"muon-sooner": {"adamw": grok(None, 3000), "muon": grok(None, 3000)}},
    )
)

case(
    Case(
        "lee2024-grokfast",
        base={
            "baseline": grok(6000, 10000),
            "baseline-wd": grok(6000, 10000),
            "grokfast-ma": grok(500, 10000),
            "grokfast-ma-lr": grok(500, 10000),
            "grokfast-ema": grok(500, 10000),
        },
        fails={
            "published-speedup": {"baseline": grok(4000, 10000)},
            "speedup-same-decay": {"baseline-wd": grok(4000, 10000)},
            "speedup-same-step": {"grokfast-ma-lr": grok(1000, 10000)},
            "first-95-ma": {"grokfast-ma": grok(1200, 10000)},
            "first-95-ema": {"grokfast-ema": grok(1400, 10000)},
        },
        inconclusive={
            "published-speedup": {"baseline": grok(None, 10000), "grokfast-ma": grok(None, 10000)}
        },
    )
)


def _widths(acc_from: int, acc_to: int, metric_from: int, metric_to: int) -> dict:
    """test/acc rising over [acc_from, acc_to], test/logprob rising and test/brier falling over
    [metric_from, metric_to]."""
    steps = grid(3000, 10)
    return {
        "test/acc": (steps, ramp(steps, acc_from, acc_to, 0.0, 1.0)),
        "test/logprob": (steps, ramp(steps, metric_from, metric_to, -5.0, 0.0)),
        "test/brier": (steps, ramp(steps, metric_from, metric_to, 1.0, 0.0)),
    }


def _schaeffer(logprob=(500, 1500), brier=(500, 1500)) -> dict:
    c = _widths(1000, 1100, *logprob)
    c["test/brier"] = _widths(1000, 1100, *brier)["test/brier"]
    return {"t_gen": 1100, "curves": c}


case(
    Case(
        "schaeffer2023-metrics",
        base={"main-job": _schaeffer()},  # 10→90 % widths 800 against 80: 10×
        fails={
            "logprob-wider": {"main-job": _schaeffer(logprob=(1000, 1100))},  # as sharp: 1×
            "brier-wider": {"main-job": _schaeffer(brier=(1000, 1100))},
        },
        # curves without a transition: no width to measure
        inconclusive={
            "logprob-wider": {
                "main-job": {
                    "curves": {k: (grid(3000, 10), [0.5] * 301) for k in _widths(0, 1, 0, 1)}
                }
            }
        },
    )
)

# -- grokking entries read from t_fit, t_gen and the phase ----------------------------------------

case(
    Case(
        "power2022-data-fraction",
        base={"frac=0.3": [2000] * 3, "frac=0.4": [800] * 3, "frac=0.5": [500] * 3},
        fails={
            "steep-rise": {"frac=0.3": [900] * 3},  # 900 / 500 < 2
            "monotone": {"frac=0.4": [400] * 3},  # more data, later
            "enough-data-generalizes": {"frac=0.5": [500, 500, None]},
        },
        inconclusive={"steep-rise": {"frac=0.3": [None] * 3, "frac=0.5": [None] * 3}},
    )
)

case(
    Case(
        "power2022-weight-decay",
        base={"wd=1": [500] * 3, "wd=0": [2000] * 3},
        fails={
            "decay-generalizes": {"wd=1": [500, None, None]},
            "no-decay-much-later": {"wd=0": [1000] * 3},  # 2× < 3×
        },
        # with decay: some seeds never generalize, the ratio has no bound that decides
        inconclusive={"no-decay-much-later": {"wd=1": [500, None, None], "wd=0": [None] * 3}},
    )
)


def _ops(levels: dict[str, int]) -> dict:
    """power2022-operations: each op generalizes from grid position levels[op] on."""
    return {
        arms[f]: [100, 200] if i >= levels[op] else [None, None]
        for op, arms in power2022.OP_ARMS.items()
        for i, f in enumerate(sorted(arms))
    }


case(
    Case(
        "power2022-operations",
        base=_ops({"x+y": 0, "x-y": 0, "x/y": 1, "x^2+y^2": 2, "x^3+xy^2+y": 3}),
        fails={
            "rank-agreement": _ops({"x+y": 3, "x-y": 3, "x/y": 2, "x^2+y^2": 1, "x^3+xy^2+y": 0}),
            # the ops in the published order but the hardest no later than x-y
            "easiest-before-hardest": _ops(
                {"x+y": 0, "x-y": 2, "x/y": 1, "x^2+y^2": 1, "x^3+xy^2+y": 2}
            ),
        },
        inconclusive={"rank-agreement": _ops(dict.fromkeys(power2022.PUBLISHED_TIER, 1))},
        seeds=2,
    )
)

case(
    Case(
        "prieto2025-stablemax",
        base={
            "softmax": {"curves": {"train/collapse": ([0, 6000], [0.0, 0.9])}},
            "stablemax": [2000] * 3,
            "orthograd": [500] * 3,
        },
        fails={
            "softmax-collapses": {"softmax": {"curves": {"train/collapse": ([0, 6000], [0, 0.1])}}},
            "softmax-no-grokking": {
                "softmax": {"t_gen": 500, "curves": {"train/collapse": ([0, 6000], [0.0, 0.9])}}
            },
            "stablemax-groks": {"stablemax": [2000, None, None]},
            "orthograd-fast": {"orthograd": [1500] * 3},
        },
        inconclusive={"softmax-collapses": {"softmax": {}}},  # the curve was not recorded
    )
)


def _irreps(t_gen, key: float = 7, t_fit: int = 100) -> dict:
    return {"t_gen": t_gen, "t_fit": t_fit, "curves": {"irrep/key": ([0, 3000], [27, key])}}


case(
    Case(
        "chughtai2023-groups",
        base={"S5": {"t_gen": 2000, "t_fit": 100}, "D59": _irreps(1500)},  # 7 of D59's 31 irreps
        fails={
            "s5-generalizes": {"S5": [{"t_gen": 2000, "t_fit": 100}] * 2 + [{"t_fit": 100}]},
            "d59-generalizes": {"D59": [_irreps(1500)] * 2 + [_irreps(None)]},
            "s5-late": {"S5": {"t_gen": 500, "t_fit": 100}},  # 5 × t_fit
            "d59-late": {"D59": _irreps(500)},
            "d59-few-irreps": {"D59": _irreps(1500, key=20)},
        },
        inconclusive={
            "d59-few-irreps": {"D59": {"t_gen": 1500, "t_fit": 100}},  # irrep/key not recorded
            "s5-late": {"S5": {"t_gen": 500, "t_fit": None}},  # never fitted: no ratio
        },
    )
)

case(
    Case(
        "furuta2024-transfer",
        base={
            "source": [500] * 3,
            "linear-scratch": [1500] * 3,
            "linear-frozen": [300] * 3,
            "quadratic-scratch": [1000] * 3,
            "quadratic-frozen": [1000] * 3,
        },
        fails={
            "source-groks": {"source": [500, None, None]},
            "transfers-to-linear": {"linear-frozen": [1000] * 3},  # 1.5×
            "not-to-polynomial": {"quadratic-frozen": [500] * 3},  # 2×
        },
        inconclusive={
            "not-to-polynomial": {"quadratic-scratch": [None] * 3, "quadratic-frozen": [None] * 3}
        },
    )
)

case(
    Case(
        "liu2023-norm-constraint",
        base={
            "baseline": [1000] * 3,
            "constrained-0.8": {"t_gen": 150, "t_fit": 100},
            "constrained-goldilocks": {"t_gen": 150, "t_fit": 100},
        },
        fails={
            "baseline-groks": {"baseline": [1000, None, None]},  # 1 of 3 ends grokking
            "0.8-no-delay": {"constrained-0.8": {"t_gen": 300, "t_fit": 100}},
            "goldilocks-no-delay": {"constrained-goldilocks": {"t_gen": 300, "t_fit": 100}},
        },
        inconclusive={"0.8-no-delay": {"constrained-0.8": {"t_fit": None}}},
    )
)

case(
    Case(
        "minegishi2024-tickets",
        base={
            "dense": [1000] * 3,  # t_fit 10 everywhere: delay ratios 100 and 20
            "ticket": [200] * 3,
            "norm-matched": [1000] * 3,
            "random": [1000] * 3,
            "ticket-wd0": [500] * 3,
        },
        fails={
            "ticket-sooner": {"dense": [300] * 3},
            "delay-shrinks": {"dense": {"t_gen": 1000, "t_fit": 60}},  # 16.7 against 20
            "not-the-norm": {"norm-matched": [300] * 3},
            "not-the-sparsity": {"random": [300] * 3},
            "groks-without-decay": {"ticket-wd0": [500, None, None]},
        },
        inconclusive={
            "delay-shrinks": {"dense": {"t_gen": None, "t_fit": None}},
            "ticket-sooner": {"dense": [None] * 3, "ticket": [None] * 3},
        },
    )
)

case(
    Case(
        "xu2025-groktransfer",
        base={
            "weak": {"test": 0.6},
            "scratch": [1500] * 3,
            "groktransfer": {"t_gen": 150, "t_fit": 100},
            "low-rank": [1500] * 3,
        },
        fails={
            "sooner-than-scratch": {"scratch": [300] * 3},
            "no-delay": {"groktransfer": {"t_gen": 250, "t_fit": 100}},  # 2.5 × t_fit
            "surpasses-weak": {"weak": {"test": 0.95}},
            "not-the-low-rank": {"low-rank": [300] * 3},
        },
        inconclusive={
            "sooner-than-scratch": {"scratch": [None] * 3, "groktransfer": {"t_fit": 100}},
            "no-delay": {"groktransfer": {"t_fit": None}},  # never fitted: no ratio
        },
    )
)


def _norm(t_gen, start: float, at_gen: float, phase: str | None = None) -> dict:
    """liu2023-omnigrok: the total weight norm from `start` to `at_gen` at t_gen."""
    steps = sorted({0, t_gen, 8000})
    values = {0: start, t_gen: at_gen, 8000: at_gen}
    kw = {"t_gen": t_gen, "curves": {"norm/total": (steps, [values[s] for s in steps])}}
    return kw | ({"phase": phase} if phase else {})


case(
    Case(
        "liu2023-omnigrok",
        base={"alpha=1": _norm(100, 40.0, 10.0), "alpha=4": _norm(500, 160.0, 10.0)},
        fails={
            "later-with-large-init": {"alpha=4": _norm(150, 160.0, 10.0)},  # 1.5×
            # generalizes at a norm 8× the small init's: ln 8 / ln 16 of the way
            "goldilocks-norm": {"alpha=4": _norm(500, 160.0, 80.0)},
            "memorizes-first": {
                "alpha=4": [_norm(500, 160.0, 10.0)] * 2 + [_norm(500, 160, 10, "comprehension")]
            },
        },
        inconclusive={
            "goldilocks-norm": {"alpha=1": {"t_gen": 100}},  # no norm recorded
            "later-with-large-init": dict.fromkeys(
                ("alpha=1", "alpha=4"), {"curves": {"norm/total": ([0, 8000], [40.0, 10.0])}}
            ),
        },
    )
)


def _image_run(at_fit: float, norm_slope: float = -1.0, rises: bool = True) -> dict:
    """liu2023-omnigrok-images: fitted at step 2,000 with test accuracy `at_fit` there, rising
    linearly to 0.9 by the end (flat when not `rises`); the norm changes by `norm_slope` per
    1,000 steps after the fit."""
    steps = grid(25000, 1000)
    test = [
        min(at_fit, 0.9) if s <= 2000 or not rises else at_fit + (0.9 - at_fit) * (s - 2000) / 23000
        for s in steps
    ]
    norm = [100 + norm_slope * max(s - 2000, 0) / 1000 for s in steps]
    return {
        "t_fit": 2000,
        "t_gen": None,
        "curves": {"test/acc": (steps, test), "norm/total": (steps, norm)},
    }


def _images() -> Case:
    base, fails, inconclusive = {}, {}, {}
    for op in ("digits", "mnist1d"):
        small, large = f"{op} alpha=1", f"{op} alpha=8"
        base |= {small: _image_run(0.9, rises=False), large: _image_run(0.2)}
        fails |= {
            f"{op}-large-init-generalizes-late": {large: _image_run(0.2, rises=False)},
            f"{op}-standard-init-no-delay": {small: _image_run(0.5)},  # +0.4 after the fit
            f"{op}-norm-falls-as-test-rises": {large: _image_run(0.2, norm_slope=1.0)},
        }
        inconclusive[f"{op}-standard-init-no-delay"] = {small: {"t_fit": None, "curves": {}}}
    return Case("liu2023-omnigrok-images", base, fails, inconclusive=inconclusive, seeds=2)


case(_images())


def _lazy(w_in_at_fit: float = 0.2, w_out_at_fit: float = 1.0) -> dict:
    """tian2025-li2: train accuracy reaches 0.99 at step 20, where the hidden layer has moved
    `w_in_at_fit` and the output layer `w_out_at_fit` (relative to their init)."""
    steps = [0, 10, 20, 30]
    return {
        "train/acc": (steps, [0.0, 0.5, 0.995, 0.98]),
        "move/W_in": (steps, [0.0, w_in_at_fit / 2, w_in_at_fit, w_in_at_fit * 1.5]),
        "move/W_out": (steps, [0.0, w_out_at_fit / 2, w_out_at_fit, w_out_at_fit * 1.5]),
    }


def _tian(above=None, below=None, curves=None) -> dict:
    curves = curves or _lazy()
    out = {}
    for m in tian2025.MODULI:
        out[tian2025.arm_name(m, 2.0)] = {"t_gen": 50, "curves": curves}
        out[tian2025.arm_name(m, 0.5)] = {"phase": "memorization", "curves": curves}
    first = tian2025.MODULI[0]
    if above:
        out[tian2025.arm_name(first, 2.0)] = {"t_gen": None, "phase": above, "curves": curves}
    if below:
        out[tian2025.arm_name(first, 0.5)] = {"phase": below, "curves": curves}
    return out


case(
    Case(
        "tian2025-li2",
        base=_tian(),
        fails={
            "above-boundary-generalizes": _tian(above="memorization"),  # 2 of 3 moduli
            "below-boundary-memorizes": _tian(below="semi-grokking"),
            "lazy-output-moves-more": _tian(curves=_lazy(0.2, 0.3)),  # 1.5×
            "lazy-hidden-near-init": _tian(curves=_lazy(0.8, 4.0)),
        },
        inconclusive={"lazy-hidden-near-init": _tian(curves={"train/acc": ([0, 10], [0.0, 0.5])})},
    )
)

GROKKED = {"t_gen": 200, "test": 1.0}
MEMO = {"phase": "memorization", "test": 0.01}
PARTIAL = {"phase": "semi-grokking", "test": 0.6}
STAYS = {"t_gen": 0, "t_fit": 0, "phase": "comprehension", "test": 1.0}

case(
    Case(
        "varma2023-ungrokking",
        base={
            "grokked": GROKKED,
            "subset=0.05": [MEMO, MEMO, PARTIAL],
            "subset=0.1": PARTIAL,
            "subset=0.2": STAYS,
            "semi": [MEMO, PARTIAL, MEMO],
        },
        fails={
            "parent-grokked": {"grokked": [GROKKED, GROKKED, GROKKED | {"test": 0.95}]},
            "ungrokks": {"subset=0.05": [PARTIAL, PARTIAL, MEMO]},
            "keeps-train": {"subset=0.05": [MEMO, MEMO | {"train": 0.9}, PARTIAL]},
            "above-dcrit-stays": {"subset=0.2": [STAYS, STAYS, PARTIAL]},
            "monotone-in-size": {"subset=0.1": MEMO | {"test": 0.005}},
            "semi-grokking": {"semi": MEMO},
        },
    )
)

HUANG_GROK = {"t_gen": 200}  # t_fit 10: ratio 20
HUANG_FAST = {"t_gen": 15, "phase": "comprehension"}  # ratio 1.5
HUANG_CONFUSED = {"t_fit": None, "train": 0.5}


def _huang(cells: dict) -> dict:
    narrow, mid, wide = huang2024.WIDTHS
    table = {
        (wide, 0.2): HUANG_GROK,
        (wide, 0.3): HUANG_GROK,
        (wide, 0.5): HUANG_FAST,
        (mid, 0.3): HUANG_GROK,
        (mid, 0.5): HUANG_GROK,
        (narrow, 0.5): HUANG_GROK,
    } | cells
    return {huang2024.cell(w, f): spec for (w, f), spec in table.items()}


_NARROW, _WIDE = huang2024.WIDTHS[0], huang2024.WIDTHS[-1]
case(
    Case(
        "huang2024-phase-diagram",
        base=_huang({}),  # critical fraction 0.2 (wide) against 0.5 (narrow)
        default=MEMO,
        fails={
            "critical-fraction-falls": _huang({(_NARROW, f): HUANG_GROK for f in (0.1, 0.2, 0.3)}),
            "memorization-only-below": _huang({(_WIDE, 0.3): [HUANG_GROK, MEMO]}),
            "capacity-grows": _huang({(_WIDE, 0.1): HUANG_CONFUSED}),
            "delay-shrinks-with-data": _huang({(_WIDE, 0.5): HUANG_GROK}),
        },
        inconclusive={
            # neither the narrowest nor the widest width generalizes anywhere on the grid
            "critical-fraction-falls": _huang(
                {k: MEMO for k in [(_WIDE, 0.2), (_WIDE, 0.3), (_WIDE, 0.5), (_NARROW, 0.5)]}
            ),
            "delay-shrinks-with-data": _huang({(_WIDE, f): MEMO for f in (0.2, 0.3, 0.5)}),
            "memorization-only-below": dict.fromkeys(_huang({}), MEMO),  # no width generalizes
        },
        seeds=2,
    )
)

# -- entries read from progress-measure curves ---------------------------------------------------


def _parity(
    enter: int = 50, leave: int = 3000, acc_from: int = 3000, share_end: float = 0.3, t_gen=3500
) -> dict:
    """barak2022-sparse-parity: the test hinge loss falls from 1.6 to chance (1.0) by `enter`,
    stays there until `leave`, then drops to 0 by t_gen (3,500); test accuracy rises from 0.5
    over [acc_from, 3,500]; the relevant bits' share of ‖W_in‖² grows 0.1 → `share_end` by the
    plateau's end and 0.05 more by t_gen."""
    steps = grid(5000, 50)
    loss = [
        1.6 if s < enter else 1.0 if s <= leave else max(0.0, 1.0 - (s - leave) / (3500 - leave))
        for s in steps
    ]
    acc = ramp(steps, acc_from, 3500, 0.5, 1.0)
    share = [0.1 + (share_end - 0.1) * min(s, leave) / leave + 0.05 * (s >= 3500) for s in steps]
    return {
        "t_gen": t_gen,
        "curves": {
            "test/loss": (steps, loss),
            "test/acc": (steps, acc),
            "hidden/share": (steps, share),
        },
    }


case(
    Case(
        "barak2022-sparse-parity",
        base={"parity": _parity()},
        fails={
            "learns": {"parity": [_parity(), _parity(), _parity(t_gen=None)]},
            "long-plateau": {"parity": _parity(leave=1000)},  # leaves chance at 1,000 of 3,500
            "late-drop": {"parity": _parity(enter=500)},  # t_gen only 7× the plateau's start
            "abrupt-drop": {"parity": _parity(acc_from=1000)},
            "hidden-before-drop": {"parity": _parity(share_end=0.1)},  # all of it after
            "hidden-rises": {"parity": _parity(share_end=0.15)},
        },
        inconclusive={
            "hidden-rises": {"parity": {"t_gen": None, "curves": _parity()["curves"]}},
            "long-plateau": {"parity": _parity(enter=5000)},  # never at chance: no plateau
        },
    )
)

NANDA_STEPS = grid(1000, 10)


def _nanda(
    t_gen: int = 700,
    excluded_min: float = 0.01,
    train_acc: float = 1.0,
    restricted_delay: int = 0,
    norm_cleanup: float = 0.05,
    gini_from: int = 200,
    key: float = 5.0,
    key_share: float = 0.95,
    phase: str = "grokking",
) -> dict:
    """nanda2023-addition (as tests/test_nanda2023.py): memorization ends at 200 (the excluded
    loss's minimum), the test loss falls log-linearly from 10 at 500 to 1e-4 at 900 (cleanup
    540 → 860), the norm falls 0.01 per step in formation and `norm_cleanup` in cleanup, the
    restricted loss falls from the start (shifted by `restricted_delay`), the embedding's Gini
    rises from `gini_from` for 400 steps."""

    def curve(fn):
        return NANDA_STEPS, [fn(s) for s in NANDA_STEPS]

    def test_loss(s):
        return 10.0 if s <= 500 else 10.0 ** (1 - 5 * min(s - 500, 400) / 400)

    def norm(s):
        formation = 0.01 * min(max(s - 200, 0), 300)
        return 50 - formation - norm_cleanup * min(max(s - 540, 0), 320)

    def restricted(s):
        return 4.0 if s < restricted_delay else 4.0 * math.exp(-(s - restricted_delay) / 100)

    def gini(s):
        return min(max(s - gini_from, 0), 400) / 1000

    curves = {
        "test/loss": curve(test_loss),
        "train/loss": curve(lambda s: 1e-3),
        "train/acc": curve(lambda s: 1.0 if s < 200 or s > 540 else train_acc),
        "circuit/excluded_loss": curve(lambda s: abs(s - 200) / 100 + excluded_min),
        "circuit/restricted_loss": curve(restricted),
        "norm/total": curve(norm),
        "fourier/gini": curve(gini),
        "fourier/key": curve(lambda s: key),
        "circuit/key_share": curve(lambda s: key_share),
    }
    return {"t_gen": t_gen, "phase": phase, "curves": curves}


case(
    Case(
        "nanda2023-addition",
        base={"addition": _nanda()},
        fails={
            "groks": {"addition": _nanda(phase="comprehension")},
            "phases-in-order": {"addition": _nanda(t_gen=520)},  # generalizes before cleanup
            "excluded-rises": {"addition": _nanda(excluded_min=10.0)},  # 13.4 / 10
            "train-stays-fit": {"addition": _nanda(train_acc=0.5)},
            "restricted-leads": {"addition": _nanda(restricted_delay=700)},
            "norm-drops-in-cleanup": {"addition": _nanda(norm_cleanup=0.0)},
            "sparsity-before-gen": {"addition": _nanda(gini_from=700)},
            "few-frequencies": {"addition": _nanda(key=20.0)},
            "logits-in-key-frequencies": {"addition": _nanda(key_share=0.5)},
        },
        inconclusive={  # no test-loss fall (no phases), or a curve not recorded
            "excluded-rises": {"addition": {"t_gen": 700, "curves": {}}},
            "restricted-leads": {"addition": {"t_gen": 700, "curves": {}}},
            "norm-drops-in-cleanup": {"addition": {"t_gen": 700, "curves": {}}},
            "sparsity-before-gen": {"addition": {"t_gen": 700, "curves": {}}},
            "few-frequencies": {"addition": {"t_gen": 700, "curves": {}}},
        },
    )
)


def _primes(acc_noise: bool = False, norm_noise: bool = False) -> dict:
    """jeffares2025-primes: the prime count falls over training as the norm does, test
    accuracy rises (|ρ| = 1 each); `acc_noise` makes test accuracy zig-zag (|ρ| < 0.5),
    `norm_noise` swaps neighbouring norm values (|ρ| < 1)."""
    steps = list(range(0, 110, 10))
    primes = [100.0 - i for i in range(11)]
    acc = (
        [0.5 + 0.5 * (-1) ** i * (i % 3) / 3 for i in range(11)]
        if acc_noise
        else [i / 10 for i in range(11)]
    )
    norm = [50.0 - i for i in range(11)]
    if norm_noise:
        norm = [norm[i ^ 1] if i < 10 else norm[i] for i in range(11)]
    return {
        "t_gen": 100,
        "curves": {
            "control/primes": (steps, primes),
            "test/acc": (steps, acc),
            "norm/total": (steps, norm),
        },
    }


case(
    Case(
        "jeffares2025-primes",
        base={"main-job": _primes()},
        fails={
            "tracks-test-accuracy": {"main-job": _primes(acc_noise=True)},
            "just-the-norm": {"main-job": _primes(norm_noise=True)},
        },
        inconclusive={
            "tracks-test-accuracy": {"main-job": {"t_gen": 100, "curves": {}}},
            "just-the-norm": {"main-job": {"t_gen": 100, "curves": {}}},
        },
    )
)

# -- double descent: sweeps of final errors, curves over epochs, closed-form solves --------------

WIDTH_TRAIN = {9: 0.5, 16: 0.4, 27: 0.2, 47: 0.05, 61: 0.0, 80: 0.0, 104: 0.0, 135: 0.0}
WIDTH_TEST = {9: 0.50, 16: 0.47, 27: 0.50, 47: 0.53, 61: 0.55, 80: 0.52, 104: 0.50, 135: 0.46}


def _sweep(arms: dict, train: dict, test: dict) -> dict:
    """Each arm's seeds ending at the given train and test errors (a double descent over the
    quick widths: +8 points from 16 to 61, the interpolation threshold, then −9 points)."""
    return {arms[x]: {"train": 1 - train[x], "test": 1 - test[x]} for x in train}


def _width_sweep(train=None, test=None) -> dict:
    return _sweep(
        nakkiran2021_model_wise.WIDTH_ARMS,
        WIDTH_TRAIN | (train or {}),
        WIDTH_TEST | (test or {}),
    )


case(
    Case(
        "nakkiran2021-model-wise",
        base=_width_sweep(),
        fails={
            "peak": _width_sweep(test={h: 0.6 - h / 1000 for h in WIDTH_TEST}),  # monotone
            "peak-at-threshold": _width_sweep(train=dict.fromkeys(WIDTH_TRAIN, 0.0)),  # fits at 9
            "second-descent": _width_sweep(test={80: 0.55, 104: 0.545, 135: 0.54}),
            "wide-matches-narrow": _width_sweep(test={80: 0.53, 104: 0.51, 135: 0.50}),
        },
        inconclusive=dict.fromkeys(  # no peak to locate or descend from
            ("peak-at-threshold", "second-descent", "wide-matches-narrow"),
            _width_sweep(test={h: 0.6 - h / 1000 for h in WIDTH_TEST}),
        ),
    )
)


def _primes_sweep(scale: float = 10.0) -> dict:
    """jeffares2025-primes-dd: the width sweep above with the final prime counts (every
    rounding) at `scale` × the test error."""
    out = _width_sweep()
    for h, arm in nakkiran2021_model_wise.WIDTH_ARMS.items():
        if arm in out:
            value = scale * WIDTH_TEST[h]
            curves = {f"control/primes_x{s}": ([0, 6000], [0.0, value]) for s in (10, 100, 1000)}
            out[arm] = out[arm] | {"curves": curves}
    return out


case(
    Case(
        "jeffares2025-primes-dd",
        base=_primes_sweep(),
        fails={"tracks-test-error": _primes_sweep(scale=-10.0)},
        inconclusive={"tracks-test-error": _primes_sweep(scale=0.0)},  # constant: ρ undefined
    )
)

SIZE_TRAIN = {1000: 0.0, 1500: 0.0, 2000: 0.0, 2500: 0.02, 3000: 0.05, 3500: 0.08, 4000: 0.1}
SIZE_TEST = {1000: 0.50, 1500: 0.51, 2000: 0.53, 2500: 0.56, 3000: 0.52, 3500: 0.49, 4000: 0.47}


def _size_sweep(train=None, test=None) -> dict:
    return _sweep(
        nakkiran2021_sample_wise.SIZE_ARMS, SIZE_TRAIN | (train or {}), SIZE_TEST | (test or {})
    )


case(
    Case(
        "nakkiran2021-sample-wise",
        base=_size_sweep(),  # +6 points at n = 2,500, fitted up to n = 2,000
        fails={
            "more-data-hurts": _size_sweep(test={n: 0.6 - n / 10**5 for n in SIZE_TEST}),
            # fitted only at n = 1,000: the peak is 2.5× the threshold
            "hurts-at-threshold": _size_sweep(train={1500: 0.02, 2000: 0.02}),
        },
        inconclusive={
            "hurts-at-threshold": _size_sweep(test={n: 0.6 - n / 10**5 for n in SIZE_TEST})
        },
        quick=False,  # the canonical grid: the quick one has four sizes
    )
)


def _epochs(rise: float = 0.05, fall: float = 0.05, fit_epoch: float = 70) -> dict:
    """nakkiran2021-epoch-wise (every 10 epochs): test error falls to 47 % by epoch 40, rises
    by `rise` by epoch 80 as the train error reaches 0 at `fit_epoch`, falls back by `fall` by
    epoch 400."""
    from phenolab.catalog.entries.nakkiran2021_deep import STEPS_PER_EPOCH

    steps = list(range(0, 400 * STEPS_PER_EPOCH + 1, 10 * STEPS_PER_EPOCH))
    epochs = [s / STEPS_PER_EPOCH for s in steps]
    train = [max(0.0, 0.9 - e / fit_epoch * 0.9) for e in epochs]
    test = [
        0.9 - e / 40 * 0.43
        if e <= 40
        else 0.47 + (e - 40) / 40 * rise
        if e <= 80
        else 0.47 + rise - (e - 80) / 320 * fall
        for e in epochs
    ]
    curves = {
        "train/acc": (steps, [1 - e for e in train]),
        "test/acc": (steps, [1 - e for e in test]),
    }
    return {"wide": {"curves": curves}}


case(
    Case(
        "nakkiran2021-epoch-wise",
        base=_epochs(),
        fails={
            "rise": _epochs(rise=-0.05, fall=0.0),  # keeps falling
            "second-descent": _epochs(fall=0.0),
            "peak-at-interpolation": _epochs(fit_epoch=320),  # fits 4× after the peak
        },
        inconclusive={
            "rise": {"wide": {}},  # the curves were not read
            "second-descent": _epochs(rise=-0.05, fall=0.0),  # no peak to descend from
        },
    )
)


def _schematic(p: float, n: int = belkin2019.N_TRAIN) -> float:
    """Min-norm test error, schematically: variance exploding at p = n, bias falling with p."""
    variance = p / (n - p + 0.5) if p < n else n / (p - n + 0.5)
    return 0.5 + 1 / (1 + p / 20) + 0.2 * variance


def _closed_form(test, peff=None) -> dict:
    """Each p's seeds (one closed-form solve each) with test loss test(p) and p⁰ peff(p)."""
    out = {}
    for p, arm in belkin2019.ARMS.items():
        seeds = []
        for s in range(3):
            curves = {"test/loss": ([1], [test(p) * (1 + 0.01 * s)])}
            if peff is not None:
                curves["peff/test"] = ([1], [peff(p)])
            seeds.append({"t_fit": None, "curves": curves})
        out[arm] = seeds
    return out


N = belkin2019.N_TRAIN

case(
    Case(
        "belkin2019-minnorm",
        base=_closed_form(_schematic),
        fails={
            "peak-at-threshold": _closed_form(lambda p: 1 + 1 / p),  # a single descent
            "second-descent": _closed_form(lambda p: _schematic(min(p, N))),  # stays at the peak
            # beyond the threshold it descends again, but never below the classical optimum
            "interpolation-beats-classical": _closed_form(
                lambda p: _schematic(p) + (1.0 if p > N else 0.0)
            ),
        },
        inconclusive=dict.fromkeys(  # a run without its test loss
            ("peak-at-threshold", "second-descent", "interpolation-beats-classical"),
            {belkin2019.ARMS[N]: {"curves": {}}},
        ),
    )
)


def _peff_uturn(p: float) -> float:
    """p⁰ on test inputs: rises to the threshold, falls after it (Curth et al.)."""
    return p * N / (N - p + 1) if p < N else N + 1e4 / (p - N + 1)


case(
    Case(
        "curth2023-uturn",
        base=_closed_form(lambda p: 0.5 + 1e-3 * _peff_uturn(p) + 20 / p, _peff_uturn),
        fails={
            "peff-falls-past-threshold": _closed_form(_schematic, lambda p: p),
            # p⁰ falls past the threshold but the error rises with p there
            "error-follows-peff": _closed_form(
                lambda p: _schematic(min(p, N)) + (p / 1e4 if p > N else 0), _peff_uturn
            ),
            "no-second-descent-against-peff": _closed_form(_schematic, lambda p: p),
        },
        inconclusive={"error-follows-peff": _closed_form(_schematic)},  # p⁰ not recorded
    )
)

# -- lottery tickets and linear mode connectivity ------------------------------------------------


def _lmc(barriers: dict[int, float]) -> dict:
    """frankle2020-lmc: the test-error barrier the analysis leaves on each rewinding step's
    copies (0, 25, 100, 400: 0.01 unless given)."""
    from phenolab.catalog.entries.frankle2020_lmc import REWIND_STEPS, arm_name

    out = {}
    for k in REWIND_STEPS:
        derived = {"lmc/barrier": barriers.get(k, 0.01)}
        for copy in "ab":
            out[arm_name(k, copy)] = {"derived": derived}
    return out


case(
    Case(
        "frankle2020-lmc",
        base=_lmc({}),
        default={},
        fails={
            "lenet-stable-at-init": _lmc({0: 0.1}),  # unstable at init, stable later
            "stable-early": _lmc({400: 0.05}),
        },
        inconclusive={  # the analysis did not run
            "stable-early": _lmc({}) | {"k=400/a": {}},
            "lenet-stable-at-init": _lmc({}) | {"k=0/a": {}},
        },
    )
)


def _rebasin(naive_test=0.1, naive_train=1.0, matched_wide=0.1, matched_narrow=0.3) -> dict:
    """ainsworth2023-rebasin: the barriers the analysis leaves on the first run of each pair
    (seeds 0 and 2 of 4) of the narrowest and widest arms."""

    def pair_first(matched: float) -> dict:
        return {
            "derived": {
                "rebasin/naive/test/error_barrier": naive_test,
                "rebasin/naive/train/loss_barrier": naive_train,
                "rebasin/matched/train/loss_barrier": matched,
            }
        }

    return {
        "width-S": [pair_first(matched_narrow), {}, pair_first(matched_narrow), {}],
        "width-L": [pair_first(matched_wide), {}, pair_first(matched_wide), {}],
    }


case(
    Case(
        "ainsworth2023-rebasin",
        base=_rebasin(),
        default={},
        fails={
            "naive-barrier": _rebasin(naive_test=0.01),  # already connected without matching
            "matching-removes-barrier": _rebasin(matched_wide=0.5, matched_narrow=0.6),
            "wider-matches-better": _rebasin(matched_narrow=0.05),
        },
        inconclusive={  # the analysis did not run
            "wider-matches-better": _rebasin() | {"width-S": {}},
            "naive-barrier": _rebasin() | {"width-L": {}},
            "matching-removes-barrier": _rebasin() | {"width-L": {}},
        },
        seeds=4,
    )
)


def _rewind(accs: dict[str, list[float]]) -> dict:
    """frankle2020-rewind: dense and every round of the chains (test accuracy at the early
    stop, the minimum test loss at step 400): dense 0.9."""

    def stop_at(acc: float, step: int) -> dict:
        steps = [0, step, 2 * step]
        curves = {"test/loss": (steps, [2.3, 1.0, 1.4]), "test/acc": (steps, [0.1, acc, acc])}
        return {"t_fit": None, "curves": curves}

    out = {"dense": stop_at(0.9, 500)}
    for kind, values in accs.items():
        for r, acc in enumerate(values, start=1):
            out[f"{kind} r{r}"] = stop_at(acc, 400)
    return out


REWIND = {
    "rewind-k": [0.9] * 9 + [0.8],  # matches down to round 9 (0.8⁹ ≈ 13 % remaining)
    "rewind-0": [0.9] * 3 + [0.8] * 7,
    "rewind-k/random": [0.9, 0.8] + [0.7] * 8,
}

case(
    Case(
        "frankle2020-rewind",
        base=_rewind(REWIND),
        fails={
            "rewind-k-matches-to-16.8%": _rewind(REWIND | {"rewind-k": [0.9] * 2 + [0.8] * 8}),
            "late-rewinding-beats-init": _rewind(REWIND | {"rewind-0": REWIND["rewind-k"]}),
            "random-pruning-fails-earlier": _rewind(
                REWIND | {"rewind-k/random": REWIND["rewind-k"]}
            ),
        },
        # both chains match to the last round: the gap is unknown (both censored)
        inconclusive={
            "late-rewinding-beats-init": _rewind(
                REWIND | {"rewind-k": [0.9] * 10, "rewind-0": [0.9] * 10}
            )
        },
    )
)

# Entries whose read-outs another test file already feeds constructed outcomes in both
# directions, every expectation PASS and FAIL (the inventory above says where).
ELSEWHERE = {
    "frankle2019-lenet": "tests/test_imp.py::test_frankle2019_expectations_read_the_published_"
    "pattern_and_its_opposite",
    "nakkiran2021-ridge": "tests/test_doubledescent_entries.py::test_nakkiran_measures",
}

# -- the tests -----------------------------------------------------------------------------------


def test_every_built_in_expectation_is_tested_in_both_directions():
    """A new entry (or expectation) needs its case here: a constructed outcome on which it
    PASSes and a change on which it FAILs."""
    assert set(ELSEWHERE) <= {e.id for e in all_entries()}
    for entry in all_entries():
        if entry.id in ELSEWHERE or entry.id in ENTRIES.origin or entry.id.startswith("test-"):
            continue  # tested elsewhere, a plugin's or a test's own
        assert entry.id in CASES, f"{entry.id}: no constructed outcome in this file"
        ids = {x.id for x in entry.expectations}
        assert set(CASES[entry.id].fails) == ids, entry.id


@pytest.mark.parametrize("entry_id", CASES)
def test_the_constructed_outcome_passes_every_expectation(entry_id):
    got = verdicts(entry_id, CASES[entry_id].outcome())
    assert got == dict.fromkeys(got, "PASS"), got


FAILS = [(e, x) for e, c in CASES.items() for x in c.fails]
INCONCLUSIVE = [(e, x) for e, c in CASES.items() for x in c.inconclusive]


@pytest.mark.parametrize("entry_id, expectation", FAILS, ids=[f"{e}:{x}" for e, x in FAILS])
def test_a_minimal_change_fails_the_expectation(entry_id, expectation):
    c = CASES[entry_id]
    assert verdicts(entry_id, c.outcome(c.fails[expectation]))[expectation] == "FAIL"


@pytest.mark.parametrize(
    "entry_id, expectation", INCONCLUSIVE, ids=[f"{e}:{x}" for e, x in INCONCLUSIVE]
)
def test_an_outcome_that_cannot_decide_is_inconclusive(entry_id, expectation):
    c = CASES[entry_id]
    verdict = judge(
        next(x for x in get(entry_id).expectations if x.id == expectation),
        c.outcome(c.inconclusive[expectation]),
    )
    assert verdict.verdict == "INCONCLUSIVE", verdict


# -- through the store: the path `phenolab reproduce` takes --------------------------------------
# (last in the file: once `phenolab reproduce` had run in the process, torch's tiny ops in it —
# chughtai2023's irreps — ran ~100× slower on the loaded 2-core CPU, measured 2026-12-07)


def store_finished(store, config: RunConfig, curves: dict) -> None:
    """Write a finished run of `config` with the given curves {name: (steps, values)} into
    `store`, as training would leave it (its events are then computed from its accuracy
    curves when it is read back): `phenolab reproduce` finds it and trains nothing."""
    store.create_run(config.run_id(), config.to_json(), {})
    by_step: dict[int, dict[str, float]] = {}
    for name, (steps, values) in curves.items():
        for step, value in zip(steps, values, strict=True):
            by_step.setdefault(step, {})[name] = value
    for step, row in sorted(by_step.items()):
        store.append_metrics(step, {config.run_id(): row})
    store.set_status(config.run_id(), "finished", seconds=0.0)


@pytest.mark.parametrize("muon_reaches, verdict", [(300, "PASS"), (550, "FAIL")])
def test_reproduce_judges_stored_runs_it_did_not_train(
    tmp_path, monkeypatch, capsys, muon_reaches, verdict
):
    """tveit2025-muon through `phenolab reproduce`: runs written into the store with AdamW
    reaching 0.95 at step 600 and Muon at 300 (2×: PASS) or 550 (1.09×: FAIL); nothing is
    trained (a config left to train would fail the test)."""
    import json

    import phenolab.run.execute
    from phenolab.cli import main
    from phenolab.store import Store

    def no_training(configs):
        raise AssertionError(f"would train {len(configs)} runs")

    monkeypatch.setattr(phenolab.run.execute, "ensemble_groups", no_training)
    path = tmp_path / "runs.db"
    with Store(path) as store:
        for arm, configs in arm_configs(get("tveit2025-muon"), True, 3).items():
            for config in configs:
                store_finished(
                    store, config, reaching(600 if arm == "adamw" else muon_reaches, 3000, 25)
                )
    code = main(
        ["reproduce", "tveit2025-muon", "--quick", "--no-report", "--store", str(path), "--json"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    got = {v["expectation"]: v["verdict"] for v in json.loads(out)["verdicts"]}
    assert got == {"muon-sooner": verdict, "muon-groks": "PASS"}
