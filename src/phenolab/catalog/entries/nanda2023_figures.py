"""Figures of the nanda2023-addition entry: progress measures with the three phases, and the
final embedding on the circle of its strongest frequency."""

from __future__ import annotations

from phenolab.measures.rqi import circle_coordinates
from phenolab.models.embedding import embedding_of

PHASE_COLOURS = (
    ("memorization", "#dddddd"),
    ("circuit formation", "#fde0c5"),
    ("cleanup", "#c9e7c9"),
)
LOSSES = (
    ("train/loss", "train loss", "C0"),
    ("test/loss", "test loss", "C3"),
    ("circuit/restricted_loss", "restricted loss", "C2"),
    ("circuit/excluded_loss", "excluded loss", "C1"),
)


def _shade(ax, ph, t_gen) -> None:
    if ph is not None:
        bounds = (0, ph.t_mem, ph.t_clean, ph.t_end)
        for (name, colour), lo, hi in zip(PHASE_COLOURS, bounds[:-1], bounds[1:], strict=True):
            ax.axvspan(lo, hi, color=colour, alpha=0.6, lw=0, label=name)
    if t_gen is not None:
        ax.axvline(t_gen, color="k", ls="--", lw=1, label="t_gen")


def progress_measures(results, phases):
    """One row per seed: losses (log axis) | weight norm and embedding Gini."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 2, figsize=(11, 3.2 * len(results)), squeeze=False)
    for row, r in zip(axes, results, strict=True):
        m, ph = r.metrics or {}, phases(r)
        left, right = row
        _shade(left, ph, r.events.t_gen)
        for key, label, colour in LOSSES:
            if key in m:
                left.plot(*m[key], color=colour, label=label)
        left.set_yscale("log")
        left.set_ylabel(f"seed {r.record.config['train']['seed']}: loss")
        _shade(right, ph, r.events.t_gen)
        if "norm/total" in m:
            right.plot(*m["norm/total"], color="C4", label="‖θ‖")
        right.set_ylabel("weight norm")
        if "fourier/gini" in m:
            twin = right.twinx()
            twin.plot(*m["fourier/gini"], color="C5", label="Gini of W_E (Fourier)")
            twin.set_ylabel("Gini")
            if right is axes[0, 1]:
                twin.legend(loc="center right", fontsize=7)
        for ax in row:
            ax.set_xlabel("step")
    axes[0, 0].legend(fontsize=7, ncol=2)
    axes[0, 1].legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    return fig


def embedding_circles(results, store):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(results), figsize=(3.8 * len(results) + 1, 3.8), squeeze=False, layout="constrained"
    )
    points = None
    for ax, r in zip(axes[0], results, strict=True):
        saved = store.load_checkpoint(r.record.id)
        p = r.record.config["task"]["p"]
        if saved is None:
            ax.set_title("no checkpoint")
            continue
        xy, top = circle_coordinates(embedding_of(saved[2]["model"])[:, :p])
        xy, k = xy[0], int(top[0])
        points = ax.scatter(xy[:, 0], xy[:, 1], c=range(p), cmap="twilight", s=14)
        for a in range(3):  # consecutive numbers step by 2πk/p round the circle
            ax.annotate(
                str(a), xy.tolist()[a], fontsize=8, xytext=(3, 3), textcoords="offset points"
            )
        ax.set_title(f"seed {r.record.config['train']['seed']}: k = {k}", fontsize=9)
        ax.set_xlabel(f"cos(2π·{k}a/{p}) direction", fontsize=8)
        ax.set_ylabel(f"sin(2π·{k}a/{p}) direction", fontsize=8)
        ax.set_aspect("equal", adjustable="datalim")
    if points is not None:
        fig.colorbar(points, ax=axes[0].tolist(), label="number a")
    return fig
