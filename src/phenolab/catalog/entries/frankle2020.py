"""Frankle, Dziugaite, Roy & Carbin (2020), "Linear Mode Connectivity and the Lottery Ticket
Hypothesis", ICML 2020 — §5 and Fig. 5–6: for networks trained with standard hyperparameters
(SGD with momentum), IMP subnetworks rewound to the initialisation do not reach the dense
network's accuracy at the sparsities where subnetworks rewound to an early step k (0.1–7 % of
training) do ("late rewinding"); ResNet-20 on CIFAR-10 gives matching subnetworks down to 16.8 %
of the weights with rewinding to k. Randomly pruned subnetworks do not match.

Here: the small CNN of MNIST-1D (Greydanus & Kobak 2024: strided convolutions, then a linear
layer; models/cnn.py) trained with SGD, momentum 0.9, lr 0.1 (the paper's ResNet-20 optimizer,
without its weight decay and warmup), minibatches of 100. Two IMP chains share the dense run:
rewinding to the initialisation (rewind-0) and to step k = 40 (rewind-k: 4 % of the quick
budget, 1 % of the canonical one, both inside the paper's 0.1–7 %); the
control prunes at random with the same per-layer counts and rewinds to θ_k. One global
magnitude ranking over the conv kernels and the linear layer, 20 % of the remaining weights per
round, 10 rounds (10.7 % left). Canonical: channels 32-32-32, 4,000 steps. Quick (CPU):
channels 16-16-16, 1,000 steps. A rewound ticket trains its full budget from θ_k (the paper
trains it for the remaining T − k iterations).
"""

from phenolab.catalog import Entry, Expectation, register
from phenolab.catalog.imp import dense_arm, imp_arms
from phenolab.catalog.imp_readouts import imp_figures, matching_remaining, matching_rounds_gap
from phenolab.config import RunConfig

ROUNDS, RATE = 10, 0.2  # (1 − 0.2)^r remaining: r = 8 → 16.8 %, r = 10 → 10.7 %
CNN = dict(op="mnist1d", model="cnn", optimizer="sgd", momentum=0.9, lr=0.1, wd=0.0, warmup=0)
CANONICAL = RunConfig().replace(
    **CNN, widths=(32, 32, 32), batch_size=100, steps=4000, eval_every=100
)
QUICK = RunConfig().replace(**CNN, widths=(16, 16, 16), batch_size=100, steps=1000, eval_every=50)
K = 40  # the rewind step

ARMS = (
    dense_arm(CANONICAL, QUICK, rewinds=(K,)),
    *imp_arms(CANONICAL, QUICK, ROUNDS, RATE, controls=(), chain="rewind-0"),
    *imp_arms(CANONICAL, QUICK, ROUNDS, RATE, rewind=K, controls=("random",), chain="rewind-k"),
)
KINDS = ("rewind-0", "rewind-k", "rewind-k/random")

FRANKLE_REWIND = register(
    Entry(
        id="frankle2020-rewind",
        phenomenon="lottery tickets (late rewinding)",
        paper="Frankle, Dziugaite, Roy, Carbin (2020). Linear Mode Connectivity and the Lottery "
        "Ticket Hypothesis. ICML 2020. arXiv:1912.05671",
        title="A small CNN on MNIST-1D: IMP rewound to step k vs to init",
        description=(
            "Train the small CNN with SGD (momentum 0.9, lr 0.1), then run two IMP chains of 10 "
            "rounds from it, pruning 20 % of the remaining weights per round by final magnitude: "
            "one rewinds the survivors to their initial values, the other to their values after "
            "step k = 40; a control prunes at random (same per-layer counts) and rewinds to θ_k. "
            "A network is judged by its median test accuracy at the early-stopping iteration "
            "(minimum test loss) and matches the dense network within one binomial standard "
            "error of the dense median. The paper: with late rewinding IMP finds matching "
            "subnetworks (ResNet-20: down to 16.8 % of the weights) at sparsities where "
            "rewinding to init does not, and random pruning does not match."
        ),
        reproduces="Frankle et al. 2020, §5 / Fig. 5–6: test accuracy of IMP subnetworks "
        "rewound to iteration 0 vs to iteration k, and of random pruning, against the percent "
        "of weights remaining",
        arms=ARMS,
        expectations=(
            Expectation(
                id="rewind-k-matches-to-16.8%",
                claim="IMP rewound to step k matches the dense accuracy in every round down to "
                "16.8 % of the weights remaining (the paper's ResNet-20 level).",
                readout=lambda o: matching_remaining(o, "rewind-k"),
                op="<=",
                threshold=0.168,
                unit="of weights remaining",
            ),
            Expectation(
                id="late-rewinding-beats-init",
                claim="Rewinding to step k keeps matching the dense network at least one round "
                "(20 % of the remaining weights) deeper than rewinding to the initialisation.",
                readout=lambda o: matching_rounds_gap(o, "rewind-k", "rewind-0"),
                op=">=",
                threshold=1.0,
                unit="rounds",
            ),
            Expectation(
                id="random-pruning-fails-earlier",
                claim="Random pruning with the same per-layer counts, rewound to θ_k, stops "
                "matching at least one round before IMP rewound to θ_k does.",
                readout=lambda o: matching_rounds_gap(o, "rewind-k", "rewind-k/random"),
                op=">=",
                threshold=1.0,
                unit="rounds",
            ),
        ),
        seeds=5,
        quick_seeds=3,
        quick_seconds=150,  # 253 CPU-s; 1,338 s wall on a loaded 2-core machine
        figures=lambda outcome, store: imp_figures(outcome, KINDS),
        history=(
            "2026-11-23: written before any run of the entry; one-run pilots of the dense CNN "
            "(Adam lr 3e-3 / 1e-2; SGD momentum 0.9, lr 0.05 / 0.1) chose SGD lr 0.1 (the "
            "paper's optimizer; test accuracy ≈ 0.9, early stop inside 1,000 steps), not the "
            "thresholds.",
        ),
    )
)
