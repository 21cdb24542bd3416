"""Frankle & Carbin (2019), "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural
Networks", ICLR 2019 — Fig. 3–4 (LeNet-300-100): iterative magnitude pruning with rewinding to
the initialisation finds winning tickets that match or beat the dense network's test accuracy
(at the early-stopping iteration) and reach it sooner, down to a small fraction of the weights,
while the same masks with a fresh initialisation degrade earlier; on MNIST-1D (Greydanus &
Kobak 2024, "Scaling down deep learning with MNIST-1D", the lottery-ticket case study) tickets
hold the dense accuracy to ≈ 98 % sparsity where random masks collapse.

The data is MNIST-1D (4,000 / 1,000 sequences of 40 values), so the network is LeNet-300-100's
shape on 40 inputs: 40-300-100-10. Canonical: the paper's LeNet recipe (Adam lr 1.2e-3,
minibatches of 60, 50,000 iterations), pruning 20 % of the remaining weights per round, 20
rounds (1.2 % left). The paper prunes LeNet layer by layer (the output layer at half the rate);
here one global ranking over every weight matrix (biases never pruned), as the paper does for
its deeper networks. Quick (CPU): minibatches of 100, lr 2e-3 and 1,000 steps, so that the
dense network's early-stopping iteration (≈ step 500) lies inside the budget.
"""

from phenolab.catalog import Entry, Expectation, register
from phenolab.catalog.imp import arm_name, dense_arm, imp_arms
from phenolab.catalog.imp_readouts import (
    accuracy_gap,
    early_stop_ratio,
    imp_figures,
    matching_remaining,
    matching_rounds_gap,
    mean_accuracy_gap,
)
from phenolab.config import RunConfig
from phenolab.config.presets import preset

ROUNDS, RATE = 20, 0.2  # (1 − 0.2)^r remaining: r = 7 → 21.0 %, 15 → 3.5 %, 18 → 1.8 %
LENET = dict(op="mnist1d", model="dense", widths=(300, 100), optimizer="adamw", wd=0.0, warmup=0)
CANONICAL = RunConfig().replace(**LENET, lr=1.2e-3, batch_size=60, steps=50_000, eval_every=500)
QUICK = preset("lenet")  # LENET with lr 2e-3, minibatches of 100, 1,000 steps
KINDS = ("ticket", "reinit", "random")

FRANKLE_LENET = register(
    Entry(
        id="frankle2019-lenet",
        phenomenon="lottery tickets",
        paper="Frankle, Carbin (2019). The Lottery Ticket Hypothesis: Finding Sparse, Trainable "
        "Neural Networks. ICLR 2019. arXiv:1803.03635",
        title="Winning tickets of LeNet-300-100 on MNIST-1D (IMP, rewinding to init)",
        description=(
            "Train the dense 40-300-100-10 MLP, prune 20 % of the remaining weights by final "
            "magnitude (one global ranking), rewind the survivors to their initial values and "
            "retrain; 20 rounds. Each round also trains two controls under the same sparsity: the "
            "round's mask with a fresh initialisation (reinit) and a random mask with as many "
            "weights per layer (random). A network is judged at its early-stopping iteration "
            "(minimum test loss; the paper's validation loss) and matches the dense network when "
            "its median test accuracy there is within one binomial standard error of the dense "
            "median. The paper: winning tickets are better than dense down to 21 % of the weights, "
            "back to dense at 3.6 %, reach their early-stopping iteration sooner, while reinit "
            "controls fall behind earlier; MNIST-1D's case study: tickets hold dense accuracy to "
            "≈ 98 % sparsity while random masks collapse."
        ),
        reproduces="Frankle & Carbin 2019, Fig. 3–4 (LeNet-300-100, MNIST): test accuracy at "
        "early stopping and early-stopping iteration against the percent of weights remaining, "
        "winning tickets vs random reinitialisation; Greydanus & Kobak 2024 (MNIST-1D), lottery "
        "tickets vs random masks",
        arms=(dense_arm(CANONICAL, QUICK), *imp_arms(CANONICAL, QUICK, ROUNDS, RATE)),
        expectations=(
            Expectation(
                id="better-than-dense-to-21%",
                claim="Winning tickets are better than the dense network down to 21 % of the "
                "weights: their median early-stop accuracy, averaged over the rounds with ≥ 21 % "
                "remaining (1–7), exceeds the dense median.",
                readout=lambda o: mean_accuracy_gap(
                    o, [arm_name("ticket", r) for r in range(1, 8)], "dense"
                ),
                op=">",
                threshold=0.0,
                unit="accuracy − dense",
            ),
            Expectation(
                id="match-to-3.6%",
                claim="Winning tickets match the dense accuracy (within one standard error) in "
                "every round down to 3.6 % of the weights remaining (Frankle & Carbin: back to "
                "dense at 3.6 %).",
                readout=lambda o: matching_remaining(o, "ticket"),
                op="<=",
                threshold=0.036,
                unit="of weights remaining",
            ),
            Expectation(
                id="match-to-2%-mnist1d",
                claim="On MNIST-1D, tickets hold the dense accuracy to ≈ 98 % sparsity: every "
                "round matches down to 2 % of the weights remaining (Greydanus & Kobak).",
                readout=lambda o: matching_remaining(o, "ticket"),
                op="<=",
                threshold=0.02,
                unit="of weights remaining",
            ),
            Expectation(
                id="learn-faster",
                claim="Winning tickets learn faster: at 21 % remaining (round 7) the median "
                "early-stopping step is below the dense network's.",
                readout=lambda o: early_stop_ratio(o, arm_name("ticket", 7), "dense"),
                op="<",
                threshold=1.0,
                unit="× dense early-stop step",
            ),
            Expectation(
                id="reinit-degrades-earlier",
                claim="The same masks with a fresh initialisation stop matching the dense network "
                "at least one round (20 % of the remaining weights) before the winning tickets do.",
                readout=lambda o: matching_rounds_gap(o, "ticket", "reinit"),
                op=">=",
                threshold=1.0,
                unit="rounds",
            ),
            Expectation(
                id="random-mask-collapses",
                claim="At ≈ 98 % sparsity (round 18, 1.8 % remaining) random masks collapse: their "
                "median early-stop accuracy is at least 10 points below the dense network's.",
                readout=lambda o: accuracy_gap(o, arm_name("random", 18), "dense"),
                op="<=",
                threshold=-0.10,
                unit="accuracy − dense",
            ),
        ),
        seeds=5,
        quick_seeds=3,
        quick_seconds=300,  # 537 CPU-s; 1,706 s wall on a loaded 2-core machine
        figures=lambda outcome, store: imp_figures(outcome, KINDS),
        history=(
            "2026-11-23: written before any run of the entry; a 2-round pilot of IMP on MNIST-1D "
            "(3 seeds, minibatch 60, 1,000 steps) set the quick variant's learning rate and "
            "minibatch (the dense early-stopping step was at the end of that budget), not the "
            "thresholds.",
        ),
    )
)
