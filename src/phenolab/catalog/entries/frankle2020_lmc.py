"""Frankle, Dziugaite, Roy & Carbin (2020), "Linear Mode Connectivity and the Lottery Ticket
Hypothesis", ICML 2020 (arXiv:1912.05671) — instability analysis, Fig. 3: train a network to
step k, make two copies, train both to the end with different data orders (different samples of
SGD noise) and measure the error barrier on the straight line between them (sup_α of the test
error minus the mean of the endpoints' errors, §2). A network is *stable* when the barrier is ≈ 0
(within 2 %, the run-to-run noise); the paper finds that LeNet-300-100 on MNIST is stable already
at initialization (k = 0), and that the larger vision networks become stable early in training.

Here: LeNet-300-100 (a dense MLP 300-100, `widths`) on MNIST-1D (Greydanus & Kobak 2024; no MNIST
ships offline — with `op=idx` and a `data_dir` the same entry runs on MNIST), with the
hyperparameters of the authors' code for LeNet (open_lth `mnist_lenet_300_100`: SGD lr 0.1, no
momentum, batches of 128, 40 epochs: 1,250 steps of MNIST-1D's 4,000 training examples; no weight
decay, no warmup). The `parent` arm trains each seed and keeps its weights at every rewind step k;
the arms `k=K/a` and `k=K/b` are the two copies, dense tickets of the parent rewound to step k
(`ticket_from`, sparsity 0) that train the remaining 1,250 − k steps with data orders
`order_seed` 1 and 2. Plain SGD keeps no optimizer state, so a copy continues exactly where the
parent was at step k but for its data order. Initialization: N(0, 1/fan_in) (open_lth: Kaiming
normal, N(0, 2/fan_in)).
"""

from __future__ import annotations

import statistics

from phenolab.analysis.connectivity import stable_step
from phenolab.catalog import Arm, Entry, Expectation, Measured, register
from phenolab.catalog.lmc import paths_between
from phenolab.config import RunConfig

REWIND_STEPS = (0, 25, 100, 400)  # 0, 2, 8 and 32 % of training
STEPS = 1250
STABLE = 0.02  # the paper's tolerance: 2 % test error

LENET = RunConfig().replace(
    op="mnist1d",
    model="dense",
    widths=(300, 100),
    optimizer="sgd",
    lr=0.1,
    momentum=0.0,
    wd=0.0,
    warmup=0,
    batch_size=128,
    steps=STEPS,
    eval_every=50,
)
COPIES = {"a": 1, "b": 2}  # copy → order_seed


def arm_name(k: int, copy: str) -> str:
    return f"k={k}/{copy}"


def arms(base: RunConfig = LENET) -> tuple[Arm, ...]:
    """The parent (keeping θ_k) and the two copies per rewind step k, which train the rest of
    the parent's budget."""
    parent = Arm("parent", base.replace(keep_checkpoint_at=REWIND_STEPS))
    copies = [
        Arm(
            arm_name(k, copy),
            base.replace(steps=base.train.steps - k, rewind=k, order_seed=order),
            parent="parent",
            link="ticket_from",
        )
        for k in REWIND_STEPS
        for copy, order in COPIES.items()
    ]
    return (parent, *copies)


def analyze(outcome, store) -> None:
    """The test-error path between the two copies of every seed and rewind step, in one batched
    evaluation; each copy's result gets the pair's barrier and curve in `derived`."""
    pairs = [
        (a, b)
        for k in REWIND_STEPS
        for a, b in zip(outcome[arm_name(k, "a")], outcome[arm_name(k, "b")], strict=True)
    ]
    result = paths_between(store, [(a.record.id, b.record.id) for a, b in pairs], "test")
    barriers = result.barrier("error", "mean").tolist()
    for p, (a, b) in enumerate(pairs):
        for r in (a, b):
            r.derived["lmc/alphas"] = result.alphas.tolist()
            r.derived["lmc/test_error"] = result.error[p].tolist()
            r.derived["lmc/barrier"] = barriers[p]


def median_barrier(outcome, k: int) -> Measured:
    """Median over seeds of the test-error barrier between the copies branched off at step k."""
    values = [r.derived["lmc/barrier"] for r in outcome[arm_name(k, "a")] if _has_barrier(r)]
    if not values:
        return Measured(None, note="no barrier was computed (the analysis did not run)")
    return Measured(statistics.median(values))


def _has_barrier(result) -> bool:
    return "lmc/barrier" in getattr(result, "derived", {})


def stable_late(outcome) -> Measured:
    """The median barrier at the largest rewind step k measured (32 % of training), with the
    step from which on the median stays ≤ 2 % (`stable_step`) in the note: the copies are
    stable by that k exactly when this is ≤ 2 %."""
    medians = [median_barrier(outcome, k) for k in REWIND_STEPS]
    last = medians[-1]
    if any(m.value is None for m in medians):
        return last
    k = stable_step(REWIND_STEPS, [m.value for m in medians], STABLE)
    note = f"stable from k = {k}" if k is not None else "unstable at every k measured"
    return Measured(last.value, note=note)


def figures(outcome, store) -> list[tuple[str, object]]:
    """Test error along the path between the copies (median over seeds, one line per k) and
    the barrier against k: the paper's Fig. 2 (paths) and Fig. 3 (instability vs k)."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    ks, medians = [], []
    for k in REWIND_STEPS:
        results = [r for r in outcome[arm_name(k, "a")] if _has_barrier(r)]
        if not results:
            continue
        curves = list(zip(*[r.derived["lmc/test_error"] for r in results], strict=True))
        median = [statistics.median(c) for c in curves]
        left.plot(results[0].derived["lmc/alphas"], median, marker=".", label=f"k = {k}")
        ks.append(k)
        medians.append(statistics.median(r.derived["lmc/barrier"] for r in results))
        right.scatter([k] * len(results), [r.derived["lmc/barrier"] for r in results], c="gray")
    left.set(xlabel="α (0: copy a, 1: copy b)", ylabel="test error", title="error along the path")
    left.legend()
    right.plot(ks, medians, marker="o", color="tab:red", label="median over seeds")
    right.axhline(STABLE, ls="--", color="k", lw=0.8, label="2 % (stable)")
    right.set_xscale("symlog", linthresh=10)  # k = 0 on a log-like axis
    right.set(
        xlim=(0, 2 * REWIND_STEPS[-1]),
        xlabel="rewind step k",
        ylabel="error barrier (instability)",
        title="instability analysis",
    )
    right.legend()
    fig.tight_layout()
    caption = "Instability analysis: test error between two copies trained from step k (left); the"
    return [(caption + " barrier against k (right)", fig)]


FRANKLE_LMC = register(
    Entry(
        id="frankle2020-lmc",
        phenomenon="lottery tickets (linear mode connectivity)",
        paper="Frankle, Dziugaite, Roy, Carbin (2020). Linear Mode Connectivity and the Lottery "
        "Ticket Hypothesis. ICML 2020, arXiv:1912.05671",
        title="Instability analysis: when do two copies of a network end in one linear basin?",
        description=(
            "Train LeNet-300-100 (MNIST-1D here) and keep its weights at steps k = 0, 25, 100, "
            "400; from each, train two copies to the end with different data orders and measure "
            "the test-error barrier on the straight line between them. The paper: LeNet on MNIST "
            "is stable to SGD noise at initialization (barrier ≈ 0 already at k = 0), and every "
            "network it studies becomes stable early in training."
        ),
        reproduces="Frankle et al. 2020, Fig. 3 (instability vs rewind step k; LeNet stable at "
        "k = 0) and Fig. 2 (error along the linear path between the copies)",
        arms=arms(),
        expectations=(
            Expectation(
                id="lenet-stable-at-init",
                claim="LeNet is stable at initialization: the median over seeds of the test-error "
                "barrier between two copies trained from θ_0 with different data orders is at "
                "most 2 %.",
                readout=lambda outcome: median_barrier(outcome, 0),
                op="<=",
                threshold=STABLE,
                unit="test error",
            ),
            Expectation(
                id="stable-early",
                claim="The copies are stable early in training: from a rewind step of at most "
                "32 % of training (the largest k measured) on, the median barrier is ≤ 2 %; "
                "judged on the median barrier at that k.",
                readout=stable_late,
                op="<=",
                threshold=STABLE,
                unit="test error",
            ),
        ),
        seeds=5,
        quick_seeds=3,
        quick_seconds=270,
        seconds=380,  # 5 seeds on the 2-core CPU (loaded)
        history=(
            "2026-11-23: written before any run of the copies; one pilot of the parent alone "
            "(seed 0, 13 s on one CPU thread: train accuracy 0.88, test 0.59 at 1,250 steps) "
            "checked the budget, not the thresholds, which are the paper's.",
            "2026-11-23: stable-early was first judged on the first step k from which the median "
            "barrier stays ≤ 2 %, as a fraction of training, ≤ 0.32 (the largest k). Copies "
            "unstable at every k then measured only a lower bound of 0.32, which does not decide "
            "'≤ 0.32': INCONCLUSIVE where the claim fails. Now judged on what the claim is "
            "equivalent to, the median barrier at the largest k ≤ 2 % (that step in the note). "
            "Found by a smoke test; the first quick run (3 seeds) had passed it (stable from "
            "k = 0), and passes the new form with the same runs.",
        ),
        figures=figures,
        analysis=analyze,
    )
)
