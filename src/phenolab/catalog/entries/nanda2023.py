"""Nanda, Chan, Lieberum, Smith, Steinhardt (2023), "Progress measures for grokking via
mechanistic interpretability", ICLR 2023, arXiv:2301.05217 — §5 and Fig. 7: a network that groks
x + y mod 113 builds a Fourier-multiplication circuit on a few key frequencies long before its
test loss falls. Measured on its logits (phenolab.measures.circuit):

- restricted loss (only the key-frequency components of the logits kept, all p² pairs) falls
  during circuit formation, before the test loss does;
- excluded loss (those components removed, on the training set) rises while the train loss
  stays low: the training set comes to rely on the circuit;
- the embedding becomes sparse in the Fourier basis (Gini coefficient of its power spectrum).

Phases (§5.2; the paper draws the boundaries by eye at 1.4k and 9.4k of 40k epochs, cleanup
ending near 14k). Here they are read off each member's own curves:
- memorization ends at t_mem, the step at which the excluded loss is lowest (it falls with the
  train loss while memorizing and rises once the circuit forms), searched before cleanup;
- cleanup runs from t_clean to t_end, where log10 of the test loss has fallen 10 % and 90 % of
  the way from its peak to its final value (the paper: test loss drops and the weight norm
  falls sharply); circuit formation is [t_mem, t_clean].

Canonical: the `nanda` preset (1-layer transformer, p = 113, 30 %, AdamW lr 1e-3, wd 1, full
batch; GPU-sized), which follows the paper's original code.

Fidelity (issue 15): on a CPU the preset's t_gen was 5,200, while the paper's cleanup ends near
13.3k and the maintained reference notebook (TransformerLens, demos/Grokking_Demo.ipynb) logs its
test loss falling below 1 at step 13,800 — 2.6× later. The notebook differs from the preset in:
every bias frozen at zero (here the MLP's b_in, b_out train), every weight N(0, (0.8/√128)²)
(here N(0, 1/128), W_U N(0, 1/113)), no warm-up (here 10 steps, as the paper's code), its own
split (torch.manual_seed(598); randperm of the p² pairs, x-major, the first int(0.3·p²) for
training), its model's random draw (seed 999, not reproducible here), and it logs the test loss,
not an accuracy. The canonical arm `reference-notebook` is the preset with the notebook's
model, optimizer and split (`--mlp-bias false --init transformerlens --warmup 0 --split-seed
598`: phenolab's split with seed 598 is the notebook's, but for one pair, (43, 40), which is
trained here because round(0.3·12,769) = 3,831 where the notebook's int() gives 3,830); its
seeds differ only in the initial weights. Its fidelity row reads the notebook's own quantity,
the first step at test loss ≤ 1. Ablation on a 2-core CPU (2026-12-07, 20,000 steps; t_gen /
first step at test loss ≤ 1), seed 0 one run each: preset 5,200 / 4,700; MLP biases off 5,400 /
4,600; TransformerLens init 6,900 / 6,400; no warm-up 4,600 / 4,100; all three 9,100 / 8,500;
all three and the notebook's split 12,400 / 11,900. Then seeds 1 and 2 of that last arm (same
split, other initial weights): 8,600 / 8,100 and 6,700 / 6,000 — so over 3 seeds the arm
reaches test loss ≤ 1 at 8,100 [6,000–11,900], 1.70× before the notebook's 13,800: not
reproduced. The initial draw alone spreads it 2×, more than any single setting moved seed 0,
so the one-seed ablation ranks nothing but "all three" (5,200 → 9,100, and the 3-seed median
8,100 against the preset's 4,700); the notebook's single run (seed 999) may sit at the late
end of that spread. What moves t_gen, named: the notebook's settings together; the rest of
the gap is within the spread over initialisations that 5 seeds per arm would measure.
It is not in the quick variant (the MLP has neither setting), and no
expectation reads it. Quick (CPU): the main job's embedding MLP on x + y mod 97 (AdamW lr 1e-2,
wd 1, full batch), which groks within ~1.5k steps; the same measures apply to any model because
they read only its logits.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from phenolab.analysis.events import final_value
from phenolab.catalog import Arm, Entry, Expectation, Measured, register
from phenolab.catalog.readouts import phase_share
from phenolab.config.presets import preset
from phenolab.run import RunResult

MEASURES = ("circuit", "fourier")
CANONICAL = preset("nanda").replace(measures=MEASURES)
QUICK = preset("grokking").replace(measures=MEASURES, eval_every=20)
ARM = "addition"
NOTEBOOK = "reference-notebook"  # the preset with the reference notebook's settings
NOTEBOOK_CONFIG = CANONICAL.replace(
    mlp_bias=False, init="transformerlens", warmup=0, split_seed=598
)
CLEANUP_FROM, CLEANUP_TO = 0.1, 0.9  # shares of the test loss's log-fall bounding cleanup


# -- phases of one member ------------------------------------------------------------------------
def log_fall_step(steps, values, share: float) -> int | None:
    """First step after the curve's peak at which log10 of it has fallen `share` of the way from
    the peak to its final value; None if it does not fall."""
    logs = [math.log10(max(v, 1e-30)) for v in values]
    i0 = max(range(len(logs)), key=logs.__getitem__)
    end = final_value(logs)
    if not end < logs[i0]:
        return None
    target = logs[i0] - share * (logs[i0] - end)
    return next((s for s, v in zip(steps[i0:], logs[i0:], strict=True) if v <= target), None)


@dataclass(frozen=True)
class Phases:
    t_mem: int  # end of memorization
    t_clean: int  # start of cleanup
    t_end: int  # end of cleanup


def phases(r: RunResult) -> Phases | None:
    m = r.metrics or {}
    if "circuit/excluded_loss" not in m:
        return None
    steps, test = m["test/loss"]
    t_clean = log_fall_step(steps, test, CLEANUP_FROM)
    t_end = log_fall_step(steps, test, CLEANUP_TO)
    if t_clean is None or t_end is None:
        return None
    ex_steps, excluded = m["circuit/excluded_loss"]
    before = [(v, s) for s, v in zip(ex_steps, excluded, strict=True) if s <= t_clean]
    return Phases(min(before)[1], t_clean, t_end)


def at(r: RunResult, name: str, step: int) -> float:
    steps, values = r.metrics[name]
    return values[steps.index(step)]


# -- one number per member, then the median over seeds --------------------------------------------
def over_seeds(per_member: Callable[[RunResult], float | None]):
    """Median over the arm's seeds; unknown when the value is missing for half of them or more
    (a member that never reached cleanup has no phases)."""

    def measure(outcome) -> Measured:
        values = [per_member(r) for r in outcome[ARM]]
        known = [v for v in values if v is not None]
        missing = len(values) - len(known)
        note = f"{missing} seed(s) without phases (no test-loss fall)" if missing else ""
        if len(known) * 2 <= len(values):
            return Measured(None, note=note)
        return Measured(statistics.median(known), note=note)

    return measure


def share_of_seeds(test: Callable[[RunResult], bool | None]):
    def measure(outcome) -> Measured:
        results = outcome[ARM]
        return Measured(sum(bool(test(r)) for r in results) / len(results))

    return measure


def in_order(r: RunResult) -> bool:
    ph, t_gen = phases(r), r.events.t_gen
    return ph is not None and t_gen is not None and ph.t_mem < ph.t_clean <= t_gen


def excluded_rise(r: RunResult) -> float | None:
    ph = phases(r)
    if ph is None:
        return None
    return at(r, "circuit/excluded_loss", ph.t_clean) / at(r, "circuit/excluded_loss", ph.t_mem)


def train_fit_during_formation(r: RunResult) -> bool:
    ph = phases(r)
    if ph is None:
        return False
    steps, acc = r.metrics["train/acc"]
    return all(a >= 0.99 for s, a in zip(steps, acc, strict=True) if ph.t_mem <= s <= ph.t_clean)


def restricted_lead(r: RunResult) -> float | None:
    """t50(restricted loss) / t50(test loss): half-way points of their log-falls."""
    m = r.metrics or {}
    if "circuit/restricted_loss" not in m:
        return None
    t_res = log_fall_step(*m["circuit/restricted_loss"], 0.5)
    t_test = log_fall_step(*m["test/loss"], 0.5)
    return t_res / t_test if t_res is not None and t_test else None


def norm_speedup(r: RunResult) -> float | None:
    """Fall of log ‖θ‖ per step in cleanup / in circuit formation (∞ if it did not fall then)."""
    ph = phases(r)
    if ph is None or ph.t_end <= ph.t_clean or ph.t_clean <= ph.t_mem:
        return None

    def rate(t0: int, t1: int) -> float:
        return (math.log(at(r, "norm/total", t0)) - math.log(at(r, "norm/total", t1))) / (t1 - t0)

    formation, cleanup = rate(ph.t_mem, ph.t_clean), rate(ph.t_clean, ph.t_end)
    return cleanup / formation if formation > 0 else math.inf


def norm_measure(outcome) -> Measured:
    """Median norm speed-up, noting the seeds whose norm did not fall in circuit formation (the
    paper has it falling there too; the speed-up is then ∞)."""
    m = over_seeds(norm_speedup)(outcome)
    flat = sum(norm_speedup(r) == math.inf for r in outcome[ARM])
    if flat:
        note = f"norm did not fall during circuit formation in {flat} seed(s)"
        return Measured(m.value, m.lower, m.upper, "; ".join(n for n in (m.note, note) if n))
    return m


def sparsity_before_gen(r: RunResult) -> float | None:
    """Share of the embedding's Gini rise (t_mem → end of run) reached by t_gen."""
    ph, t_gen = phases(r), r.events.t_gen
    if ph is None or t_gen is None:
        return None
    steps, gini = r.metrics["fourier/gini"]
    start, end = at(r, "fourier/gini", ph.t_mem), final_value(gini)
    if end <= start:
        return 0.0
    return (at(r, "fourier/gini", t_gen) - start) / (end - start)


def final(name: str):
    return lambda r: final_value(r.metrics[name][1]) if name in (r.metrics or {}) else None


# -- figures ---------------------------------------------------------------------------------------
def figures(outcome, store) -> list[tuple[str, object]]:
    from phenolab.catalog.entries.nanda2023_figures import embedding_circles, progress_measures

    results = outcome[ARM][:3]
    return [
        (
            "Progress measures over training (Nanda et al. Fig. 7): train, test, restricted and "
            "excluded loss; weight norm and the embedding's Fourier Gini. Shaded: memorization, "
            "circuit formation, cleanup (boundaries from each seed's own curves); dashed: t_gen.",
            progress_measures(results, phases),
        ),
        (
            "The final number embedding projected on the cos / sin directions of its strongest "
            "frequency k: a generalizing network puts the numbers on a circle in the order k·a "
            "mod p (colour: the number a).",
            embedding_circles(results, store),
        ),
    ]


def _expect(id_, claim, fn, op, threshold, unit) -> Expectation:
    return Expectation(id_, claim, fn, op, threshold, unit)


NANDA = register(
    Entry(
        id="nanda2023-addition",
        phenomenon="grokking (mechanism)",
        paper="Nanda, Chan, Lieberum, Smith, Steinhardt (2023). Progress measures for grokking "
        "via mechanistic interpretability. ICLR 2023, arXiv:2301.05217",
        title="Hidden progress: the Fourier circuit forms before the test loss falls",
        description=(
            "Train on 30 % of x+y mod p and record, at every evaluation, the restricted loss "
            "(the logits' key-frequency components alone, on all p² pairs), the excluded loss "
            "(those components removed, on the training set), the share of the logits in the "
            "key frequencies and the Fourier sparsity of the embedding. The paper: training "
            "splits into memorization, circuit formation (excluded loss rises, restricted loss "
            "falls, train and test loss flat) and cleanup (test loss and weight norm drop), with "
            "the test-accuracy jump inside cleanup; the final network uses a handful of "
            "frequencies."
        ),
        reproduces="Nanda et al. 2023, Fig. 7 (restricted / excluded loss, Gini, weight norm "
        "over training with the three phases) and §4 (5 key frequencies, 95 % of the logits)",
        arms=(Arm(ARM, CANONICAL, QUICK), Arm(NOTEBOOK, NOTEBOOK_CONFIG, in_quick=False)),
        expectations=(
            _expect(
                "groks",
                "The network groks: phase = grokking (t_gen > 2·t_fit) in at least 80 % of the "
                "seeds (Fig. 7: test loss collapses ~10k epochs after the train loss).",
                lambda o: phase_share(o, ARM, "grokking"),
                ">=",
                0.8,
                "of seeds",
            ),
            _expect(
                "phases-in-order",
                "Memorization, circuit formation and cleanup follow each other and the test "
                "accuracy jump lies in cleanup (t_mem < t_clean ≤ t_gen) in ≥ 80 % of seeds "
                "(§5.2: phases at 0–1.4k, 1.4k–9.4k, 9.4k–14k; the jump inside cleanup).",
                share_of_seeds(in_order),
                ">=",
                0.8,
                "of seeds",
            ),
            _expect(
                "excluded-rises",
                "The excluded loss rises during circuit formation: excluded(t_clean) / "
                "excluded(t_mem) ≥ 2, median over seeds (§5.2, Fig. 7: it climbs on a log axis "
                "through circuit formation; ×2 is the weakest reading of 'rises').",
                over_seeds(excluded_rise),
                ">=",
                2.0,
                "×",
            ),
            _expect(
                "train-stays-fit",
                "…while the train loss stays low: train accuracy ≥ 0.99 at every evaluation of "
                "circuit formation in ≥ 80 % of seeds (Fig. 7: train loss flat in that phase).",
                share_of_seeds(train_fit_during_formation),
                ">=",
                0.8,
                "of seeds",
            ),
            _expect(
                "restricted-leads",
                "The restricted loss falls before the test loss: the step where its log-fall is "
                "half done, over the test loss's, < 1 (median over seeds; Fig. 7: restricted loss "
                "falls during circuit formation, test loss only in cleanup).",
                over_seeds(restricted_lead),
                "<",
                1.0,
                "× t50(test loss)",
            ),
            _expect(
                "norm-drops-in-cleanup",
                "The weight norm falls faster in cleanup than in circuit formation: rate of fall "
                "of log ‖θ‖ per step, cleanup / formation ≥ 1, median over seeds (§5.2: 'the "
                "weight norm drops sharply' in cleanup).",
                norm_measure,
                ">=",
                1.0,
                "×",
            ),
            _expect(
                "sparsity-before-gen",
                "The embedding becomes sparse in the Fourier basis before generalization: at "
                "t_gen its Gini coefficient has made ≥ 50 % of its rise from t_mem to the end of "
                "the run, median over seeds (Fig. 7: the Gini of W_E rises in circuit formation "
                "and cleanup, before test loss bottoms out).",
                over_seeds(sparsity_before_gen),
                ">=",
                0.5,
                "of the rise",
            ),
            _expect(
                "few-frequencies",
                "The final embedding uses a handful of frequencies: ≤ 8 frequencies hold 90 % "
                "of its Fourier power, median over seeds (§4.1: 6 non-negligible frequencies, "
                "5 used; App. C.2.1: 3–4 key frequencies for other seeds).",
                over_seeds(final("fourier/key")),
                "<=",
                8.0,
                "frequencies",
            ),
            _expect(
                "logits-in-key-frequencies",
                "The final logits are mostly the key-frequency terms: ≥ 90 % of their variance "
                "over the inputs lies in the 5 key frequencies, median over seeds (§4.2: "
                "Σ_k α_k cos(w_k(a+b−c)) over 5 frequencies explains 95 % of the variance).",
                over_seeds(final("circuit/key_share")),
                ">=",
                0.9,
                "share",
            ),
        ),
        seeds=5,
        quick_seeds=3,
        quick_seconds=55,  # measured: 51 s on a quiet 2-core machine (84 s under load ≈ 3.5)
        seconds=None,
        figures=figures,
        history=(
            "2026-12-07 (issue 15): arm reference-notebook added (the preset with the maintained "
            "reference notebook's bias-free MLP, TransformerLens init and no warm-up), read by no "
            "expectation; expectations unchanged. Written before any run of the arm.",
            "2026-12-07 (issue 15): arm reference-notebook takes the notebook's split "
            "(split_seed 598) too, after the one-seed CPU ablation in the docstring (seed 0: "
            "t_gen 9,100 without the split, 12,400 with it; seeds 1 and 2, run after the change: "
            "8,600 and 6,700). A new registration; still read by no expectation, expectations "
            "unchanged.",
        ),
    )
)
