"""Lee, Kang, Kim, Kim, Kim (2024), "Grokfast: accelerated grokking by amplifying slow
gradients", arXiv:2405.20233 — a low-pass filter on the gradient (the mean of the last w
gradients, MA; or an exponential moving average, EMA) is added back λ-fold, g ← g + λ·ḡ, and
grokking comes up to ~50× sooner: on x·y mod 97 with 50 % of the table and a 2-layer
transformer, test accuracy reached 0.95 at 39,890 steps without the filter and 790 with
Grokfast-MA (w 100, λ 5).

The published comparison changes two things at once: the baseline has no weight decay, the
Grokfast run has some (0.01), and the filter multiplies the step along slowly varying gradient
directions by up to 1 + λ. This entry runs the published pair and the matched controls a careful
reviewer asks for:
- `baseline`: no filter, wd 0 (as published);
- `grokfast-ma`: Grokfast-MA w 100, λ 5, wd 0.01 (as published);
- `baseline-wd`: no filter, the same wd 0.01;
- `grokfast-ma-lr`: Grokfast-MA with the learning rate divided by 1 + λ, wd 0.01.
- `grokfast-ema`: Grokfast-EMA α 0.98, λ 2, wd 0.005 (as published: 910 steps to 95 %).
Canonical: the authors' code (github.com/ironjr/grokfast, main.py, the README's commands): x·y
mod 97 with y = 0 left out (97·96 pairs), 50 % train; a 2-layer decoder transformer, width 128,
4 heads, MLP 512, GELU, attention biases, LayerNorm in its block's own places (x ← LN₁(x);
x + attn(x); x + MLP(LN₂(x)); a final LN), PyTorch's default initialisation; torch.optim.Adam
(weight decay as L2 in the gradient) lr 1e-3, β (0.9, 0.98), 10 warm-up steps as their
LambdaLR (lr 0 at the first step, (k−1)/10 at step k: `warmup_offset` 1), minibatches of 512;
evaluated every 10 steps (the authors evaluate once per epoch, 10 steps).
Deliberate deviations, each too small to matter here or not expressible: (1) the authors' epoch
ends with a ragged batch of 48 (10 steps an epoch); phenolab drops the ragged tail (9 steps of
512); (2) their head scores all 99 tokens (the 97 numbers, `op` and `=`), phenolab the 97
answers; (3) each member draws its initialisation from its own generator, not from
torch.manual_seed(seed) as theirs; (4) their train accuracy averages the epoch's batches before
each step, phenolab's is measured on the whole training set at each evaluation.
Quick (CPU): the main job's embedding MLP on x·y mod 97, 50 %.
Speed-ups compare medians over seeds of t_gen (test accuracy ≥ 0.99 to the end of the run);
a seed that never generalizes makes the ratio a bound. The paper's own metric, the first step
at 95 % test accuracy (first crossing), is judged beside it (`first-95-*`).
Issue 15's finding (on this project's CPU, before this canonical): with the earlier canonical
(Power et al.'s transformer here — no LayerNorm, N(0, 1/d) init, ReLU — but torch.optim.Adam as
the authors) Grokfast-MA never reached 95 % in 1,500–1,650 steps; turning LayerNorm on alone
brought it to 450 / 410 steps (two seeds). Grokfast's speed-up needs LayerNorm in this model.
"""

from __future__ import annotations

from phenolab.catalog import Arm, Entry, Expectation, register
from phenolab.catalog.readouts import median_steps_to, median_t_gen, ratio
from phenolab.config import RunConfig
from phenolab.config.presets import preset

LAMB = 5.0
FILTER = f"grokfast-ma:lamb={LAMB},window=100"
EMA_FILTER = "grokfast-ema:alpha=0.98,lamb=2.0"
DECAY = 0.01
EMA_DECAY = 0.005
PUBLISHED_FIRST_95 = {"grokfast-ma": 790, "grokfast-ema": 910, "baseline": 39_890}
# the authors' code (ironjr/grokfast main.py): see the module's docstring
GROKFAST_CODE = RunConfig().replace(
    op="x*y",
    p=97,
    nonzero_y=True,
    frac=0.5,
    model="transformer",
    n_layers=2,
    d_model=128,
    n_heads=4,
    d_mlp=512,
    layernorm=True,
    layernorm_at="normed-residual",
    attn_bias=True,
    activation="gelu",
    init="torch",
    optimizer="adam",
    lr=1e-3,
    betas=(0.9, 0.98),
    warmup=10,
    warmup_offset=1,
    batch_size=512,
)
CANONICAL = GROKFAST_CODE.replace(steps=60_000, eval_every=10)
QUICK = preset("grokking").replace(op="x*y", frac=0.5, steps=10_000, eval_every=50)
ARMS = {
    "baseline": {"wd": 0.0},
    "grokfast-ma": {"wd": DECAY, "interventions": FILTER},
    "baseline-wd": {"wd": DECAY},
    "grokfast-ma-lr": {"wd": DECAY, "interventions": FILTER, "lr_divisor": 1 + LAMB},
    "grokfast-ema": {"wd": EMA_DECAY, "interventions": EMA_FILTER},
}


def _arm(name: str) -> Arm:
    change = dict(ARMS[name])
    divisor = change.pop("lr_divisor", 1.0)
    return Arm(
        name,
        CANONICAL.replace(**change, lr=CANONICAL.train.lr / divisor),
        QUICK.replace(**change, lr=QUICK.train.lr / divisor),
    )


def first_95(arm: str):
    """Median over seeds of the first step at test accuracy ≥ 0.95 (the paper's metric)."""
    return lambda outcome: median_steps_to(outcome, arm, 0.95, first=True)


def speedup(slow: str, fast: str):
    return lambda outcome: ratio(median_t_gen(outcome, slow), median_t_gen(outcome, fast))


GROKFAST = register(
    Entry(
        id="lee2024-grokfast",
        phenomenon="grokking (intervention)",
        paper="Lee, Kang, Kim, Kim, Kim (2024). Grokfast: accelerated grokking by amplifying "
        "slow gradients. arXiv:2405.20233",
        title="Grokfast's speed-up, as published and against matched controls",
        description=(
            "Train x·y mod 97 on half the table with and without the Grokfast-MA gradient filter. "
            "The published ×50 compares a filtered run with weight decay against an unfiltered "
            "one without; here the filter is also compared with the same weight decay, and with "
            "its learning rate divided by 1 + λ (the filter's largest gain). Grokfast-EMA runs as "
            "published too. The canonical model and optimizer are the authors' code's."
        ),
        reproduces="Lee et al. 2024, Fig. 1 / Table 1 (x·y mod 97, 50 %: 39,890 → 790 steps to "
        "0.95 test accuracy with Grokfast-MA)",
        arms=tuple(_arm(name) for name in ARMS),
        expectations=(
            Expectation(
                id="published-speedup",
                claim="As published (baseline without weight decay, Grokfast-MA with wd 0.01): "
                "median t_gen falls at least 10-fold (published ×50; ×10 a weak reading).",
                readout=speedup("baseline", "grokfast-ma"),
                op=">=",
                threshold=10.0,
                unit="×",
            ),
            Expectation(
                id="speedup-same-decay",
                claim="Against a baseline with the same weight decay, Grokfast-MA still "
                "generalizes at least 10× sooner (the speed-up is the filter's, not the decay's).",
                readout=speedup("baseline-wd", "grokfast-ma"),
                op=">=",
                threshold=10.0,
                unit="×",
            ),
            Expectation(
                id="speedup-same-step",
                claim="With the learning rate divided by 1 + λ (so the filtered step is no "
                "larger than the baseline's along any direction), Grokfast-MA still generalizes "
                "at least 10× sooner than the baseline with the same weight decay (the gain is "
                "not a larger step size).",
                readout=speedup("baseline-wd", "grokfast-ma-lr"),
                op=">=",
                threshold=10.0,
                unit="×",
            ),
            Expectation(
                id="first-95-ma",
                claim="The paper's own number: Grokfast-MA first reaches 0.95 test accuracy "
                "within 1.5× of the published 790 steps (median over seeds; the quick MLP's "
                "steps are not the paper's model's).",
                readout=first_95("grokfast-ma"),
                op="<=",
                threshold=1.5 * PUBLISHED_FIRST_95["grokfast-ma"],
                unit="steps",
            ),
            Expectation(
                id="first-95-ema",
                claim="Grokfast-EMA (α 0.98, λ 2, wd 0.005) first reaches 0.95 test accuracy "
                "within 1.5× of the published 910 steps (median over seeds).",
                readout=first_95("grokfast-ema"),
                op="<=",
                threshold=1.5 * PUBLISHED_FIRST_95["grokfast-ema"],
                unit="steps",
            ),
        ),
        seeds=5,
        quick_seeds=3,
        quick_seconds=1000,
        seconds=None,
        history=(
            "2026-11-22: written before any run of this entry.",
            "2026-11-22: the first --quick run (3,000 steps) was INCONCLUSIVE on all three "
            "expectations: no arm generalized within the budget (weight decay 0.01 on the MLP "
            "is far weaker than the main job's 1). Quick budget raised to 10,000 steps; "
            "expectations unchanged.",
            "2026-12-07 (issue 15): the canonical variant is now the authors' code's experiment "
            "(LayerNorm, GELU, attention biases, PyTorch init, Adam with L2 decay, LambdaLR's "
            "warm-up, y = 0 left out, evaluation every 10 steps) instead of Power et al.'s "
            "transformer with AdamW — a new "
            "registration; arm grokfast-ema and expectations first-95-ma / first-95-ema (the "
            "paper's metric, within 1.5× of 790 / 910) added, before any run of the new canonical "
            "variant. The earlier three expectations are unchanged.",
        ),
    )
)
