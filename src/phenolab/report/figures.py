"""Matplotlib figures of a run's curves, drawn the way the grokking papers draw them: step on a
log axis, train and test together, the grokking gap between t_fit and t_gen shaded."""

from __future__ import annotations

import io
import math
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# fonts readable in a paper's column and in the report (matplotlib's default is 10)
plt.rcParams.update({"font.size": 11, "axes.titlesize": 12, "legend.fontsize": 10})

TRAIN, TEST = "#d62728", "#1f77b4"  # red train / blue test, as in Power et al. Fig. 1
Series = tuple[list[int], list[float]]


def _positive(series: Series) -> Series:
    steps, values = series
    keep = [i for i, s in enumerate(steps) if s > 0]  # a log axis has no step 0
    return [steps[i] for i in keep], [values[i] for i in keep]


def _mark_events(ax, t_fit: int | None, t_gen: int | None) -> None:
    if t_fit:
        ax.axvline(t_fit, color=TRAIN, ls=":", lw=1, label=f"$t_{{fit}}$ = {t_fit:,}")
    if t_gen:
        ax.axvline(t_gen, color=TEST, ls=":", lw=1, label=f"$t_{{gen}}$ = {t_gen:,}")
    if t_fit and t_gen and t_gen > t_fit:
        ax.axvspan(t_fit, t_gen, color="0.85", alpha=0.5, lw=0, label="grokking gap")


def curves_figure(
    metrics: dict[str, Series], t_fit: int | None, t_gen: int | None, title: str
) -> plt.Figure:
    """Accuracy (when recorded: a regression run has none), loss and weight norm against
    optimisation step (log axis)."""
    panels = [("acc", "accuracy")] if "train/acc" in metrics else []
    panels.append(("loss", "loss"))
    has_norm = "norm/total" in metrics
    count = len(panels) + has_norm
    fig, axes = plt.subplots(1, count, figsize=(5.2 * count, 4.0))
    for ax, (key, label) in zip(axes, panels, strict=False):
        for split, color in (("train", TRAIN), ("test", TEST)):
            if f"{split}/{key}" in metrics:
                ax.plot(*_positive(metrics[f"{split}/{key}"]), color=color, lw=1.8, label=split)
        ax.set_xscale("log")
        if key == "loss":
            ax.set_yscale("log")
        else:
            ax.set_ylim(-0.02, 1.02)
        _mark_events(ax, t_fit, t_gen)
        ax.set_xlabel("optimization step")
        ax.set_ylabel(label)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="best", fontsize=9)
    if has_norm:
        ax = axes[-1]
        ax.plot(*_positive(metrics["norm/total"]), color="0.2", lw=1.8, label="‖θ‖₂")
        ax.set_xscale("log")
        _mark_events(ax, t_fit, t_gen)
        ax.set_xlabel("optimization step")
        ax.set_ylabel("L2 norm of all weights")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="best", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


CURVES = ("train/acc", "test/acc", "train/loss", "test/loss", "norm/total")


def measures_figure(
    metrics: dict[str, Series], t_fit: int | None, t_gen: int | None, title: str
) -> plt.Figure | None:
    """One small panel per recorded progress measure beyond the main curves (None if none)."""
    names = [n for n in sorted(metrics) if n not in CURVES and not n.startswith("time/")]
    if not names:
        return None
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        ax.plot(*_positive(metrics[name]), color="0.2", lw=1.5)
        ax.set_xscale("log")
        _mark_events(ax, t_fit, t_gen)
        ax.set_title(name, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def circle_figure(xy, frequency: int, title: str) -> plt.Figure:
    """The numbers 0 … p−1 at their coordinates xy [p, 2] (the plane of one Fourier frequency),
    coloured by number and joined in the order a·k mod p: a circle once the network groks."""
    p = len(xy)
    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    if math.gcd(frequency, p) == 1:  # the j-th point around the circle is j·k⁻¹ mod p
        order = [j * pow(frequency, -1, p) % p for j in range(p)]
        ax.plot(xy[order + order[:1], 0], xy[order + order[:1], 1], color="0.8", lw=0.8)
    points = ax.scatter(xy[:, 0], xy[:, 1], c=range(p), cmap="twilight", s=18, zorder=3)
    fig.colorbar(points, ax=ax, label="number a")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(f"{title}\nembedding in the plane of frequency k = {frequency}", fontsize=10)
    fig.tight_layout()
    return fig


def size_figure(sizes: list[float], errors: list[float], peak, by: str) -> plt.Figure:
    """Final test error against a model or data size (log axis), the double-descent peak
    (analysis.doubledescent.Peak, or None) marked."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(sizes, errors, "o-", color=TEST, lw=1.8)
    if peak is not None and peak.found:
        ax.axvline(peak.x, color="0.4", ls=":", lw=1, label=f"peak at {by} = {peak.x:g}")
        ax.legend(loc="best")
    if min(sizes) > 0 and max(sizes) / min(sizes) >= 8:  # sizes over an order of magnitude
        ax.set_xscale("log")
    ax.set_xlabel(by)
    ax.set_ylabel("final test error (median over runs)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def save_figure(fig: plt.Figure, path: str, fmt: str) -> str:
    """`fig` written to `path` as svg, pdf or png (its folder created), then closed."""
    import os

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    try:
        fig.savefig(path, format=fmt, dpi=200 if fmt == "png" else None)
    finally:
        plt.close(fig)
    return path


def to_png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _colors(groups: list[str]) -> dict:
    colors = plt.get_cmap("viridis" if len(groups) > 10 else "tab10")
    return {
        g: colors(i / max(len(groups) - 1, 1) if len(groups) > 10 else i)
        for i, g in enumerate(groups)
    }


def _short(label: str, most: int = 28) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"


def _t_gen_strip(
    ax,
    groups: list[str],
    t_gens: list[tuple[str, int | None]],
    color_of,
    finals: list[tuple[str, float]] | None = None,
) -> None:
    """t_gen of every member by group (log axis), the median as a bar, and how many never.
    When no member generalized, the final test accuracy of every member by group instead
    (`finals`: (group, accuracy)), so that the panel still tells the groups apart."""
    generalized = any(t is not None for _, t in t_gens)
    for i, g in enumerate(groups):
        if not generalized and finals is not None:
            accs = [a for label, a in finals if label == g]
            ax.scatter([i] * len(accs), accs, color=color_of[g], s=22, zorder=3)
            if accs:
                ax.hlines(sorted(accs)[len(accs) // 2], i - 0.3, i + 0.3, color="k", lw=1.5)
            continue
        ts = [t for label, t in t_gens if label == g]
        done = [t for t in ts if t is not None]
        ax.scatter([i] * len(done), done, color=color_of[g], s=22, zorder=3)
        if done:
            ax.hlines(sorted(done)[len(done) // 2], i - 0.3, i + 0.3, color="k", lw=1.5)
        if len(done) < len(ts):
            ax.annotate(
                f"{len(ts) - len(done)} never",
                (i, 1),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="top",
                fontsize=9,
                color="0.3",
            )
    # long or many labels are slanted (and long ones shortened) so that they never overlap
    slant = len(groups) > 4 or sum(len(g) for g in groups) > 40
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(
        [_short(g) for g in groups],
        rotation=30 if slant else 0,
        ha="right" if slant else "center",
        fontsize=9,
    )
    if not generalized and finals is not None:
        ax.set_ylabel("final test accuracy (bar = median)")
        ax.set_title("no run reached $t_{gen}$", fontsize=10)
        ax.set_ylim(-0.02, 1.02)
    else:
        ax.set_ylabel("$t_{gen}$ (step; bar = median)")
        if generalized:  # a log axis needs at least one value
            ax.set_yscale("log")
    ax.grid(True, axis="y", alpha=0.3)


def ensemble_figure(
    members: list[tuple[str, dict[str, Series], int | None]], title: str
) -> plt.Figure:
    """Test (solid) and train (faint) accuracy of every member, one colour per group, and the
    t_gen of every member by group. `members`: (group label, metrics, t_gen)."""
    groups = list(dict.fromkeys(label for label, _, _ in members))
    color_of = _colors(groups)
    fig, (ax, ax_t) = plt.subplots(
        1, 2, figsize=(12.5, 4.2), gridspec_kw={"width_ratios": [1.6, 1]}
    )
    seen = set()
    for label, metrics, _ in members:
        c = color_of[label]
        if "train/acc" in metrics:
            ax.plot(*_positive(metrics["train/acc"]), color=c, lw=0.8, alpha=0.35, ls="--")
        ax.plot(
            *_positive(metrics["test/acc"]),
            color=c,
            lw=1.2,
            alpha=0.85,
            label=None if label in seen else label,
        )
        seen.add(label)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("optimization step")
    ax.set_ylabel("accuracy (test solid, train dashed)")
    ax.grid(True, alpha=0.3)
    if len(groups) <= 12:
        ax.legend(loc="best", fontsize=8)
    finals = [(label, m["test/acc"][1][-1]) for label, m, _ in members]
    _t_gen_strip(ax_t, groups, [(label, t) for label, _, t in members], color_of, finals)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def median_curve(series: list[Series]) -> Series:
    """The median across members at each step all of them recorded."""
    common = set(series[0][0]).intersection(*(set(steps) for steps, _ in series[1:]))
    steps = sorted(common)
    lookup = [dict(zip(*s, strict=True)) for s in series]
    return steps, [statistics.median(d[step] for d in lookup) for step in steps]


def comparison_figure(
    arms: list[tuple[str, list[dict[str, Series]], list[int | None]]], title: str
) -> plt.Figure:
    """Test accuracy of every arm on one axis: the median over seeds (bold) over each seed's
    curve (faint); and every seed's t_gen by arm. `arms`: (name, seeds' metrics, t_gens)."""
    names = [name for name, _, _ in arms]
    color_of = _colors(names)
    fig, (ax, ax_t) = plt.subplots(
        1, 2, figsize=(12.5, 4.4), gridspec_kw={"width_ratios": [1.6, 1]}
    )
    for name, members, _ in arms:
        c = color_of[name]
        for metrics in members:
            ax.plot(*_positive(metrics["test/acc"]), color=c, lw=0.7, alpha=0.25)
        ax.plot(
            *_positive(median_curve([m["test/acc"] for m in members])), color=c, lw=2, label=name
        )
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("optimization step")
    ax.set_ylabel("test accuracy (median over seeds; faint: each seed)")
    ax.grid(True, alpha=0.3)
    if len(names) <= 12:
        ax.legend(loc="best", fontsize=8)
    finals = [(n, m["test/acc"][1][-1]) for n, members, _ in arms for m in members]
    _t_gen_strip(ax_t, names, [(n, t) for n, _, ts in arms for t in ts], color_of, finals)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


PHASE_COLORS = ("#2ca02c", "#1f77b4", "#9467bd", "#ff7f0e", "#d62728")  # analysis PHASES order


def majority_phase(phases: list[str]) -> str:
    """The phase most seeds of a cell are in (ties: the earlier in PHASES)."""
    from phenolab.analysis.events import PHASES

    return max(PHASES, key=lambda p: (phases.count(p), -PHASES.index(p)))


def phase_map(ax, cells: dict, xs: list, ys: list, per_seed_text: bool = True) -> None:
    """Each cell's majority phase over its seeds as a colour on `ax` (x: `xs`, y: `ys`);
    `cells[(x, y)]` is the list of the cell's Events. With `per_seed_text` every seed's phase
    is written in its cell."""
    from matplotlib.colors import ListedColormap

    from phenolab.analysis.events import PHASES

    grid = [
        [
            PHASES.index(majority_phase([e.phase for e in cells[x, y]]))
            if (x, y) in cells
            else math.nan  # a refined diagram's cell that has no point
            for x in xs
        ]
        for y in ys
    ]
    cmap = ListedColormap(PHASE_COLORS).with_extremes(bad="white")
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=len(PHASES) - 1, origin="lower", aspect="auto")
    if per_seed_text:
        for i, y in enumerate(ys):
            for j, x in enumerate(xs):
                text = "\n".join(e.phase for e in cells.get((x, y), ()))
                ax.text(j, i, text, ha="center", va="center", fontsize=6, color="white")
    ax.set_xticks(range(len(xs)), [f"{x:g}" if isinstance(x, float) else str(x) for x in xs])
    ax.set_yticks(range(len(ys)), [f"{y:g}" if isinstance(y, float) else str(y) for y in ys])
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in PHASE_COLORS]
    ax.legend(handles, PHASES, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))


def phase_diagram(cells: dict, xs: list, ys: list, x_name: str, y_name: str) -> plt.Figure:
    """A sweep's phase diagram over two fields, in the style of Omnigrok's and Huang et al.'s:
    each cell's majority phase over seeds, and heat maps of the median t_gen, of t_gen / t_fit
    (seeds that never generalized count as ∞ in the medians: a cell whose median is ∞ is grey)
    and of the median final test accuracy. Cells without a point (a refined diagram's) are
    white; points that fill less than half of their grid (a sampled box) are drawn as markers
    where they lie instead (`_scattered`)."""
    from matplotlib.colors import ListedColormap

    from phenolab.analysis.events import PHASES

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    scattered = _scattered(cells, xs, ys)
    if scattered:
        points = list(cells)
        majority = [majority_phase([e.phase for e in cells[p]]) for p in points]
        ax = axes[0][0]
        ax.scatter(
            [x for x, _ in points],
            [y for _, y in points],
            c=[PHASE_COLORS[PHASES.index(m)] for m in majority],
            s=60,
            edgecolors="black",
            linewidths=0.5,
        )
        handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in PHASE_COLORS]
        ax.legend(handles, PHASES, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    else:
        phase_map(axes[0][0], cells, xs, ys, per_seed_text=len(xs) * len(ys) <= 60)
    axes[0][0].set_title("phase (majority over seeds)")

    def median_of(values: list[float | None]) -> float:
        if not values:
            return math.nan
        return statistics.median([math.inf if v is None else v for v in values])

    panels = [
        (axes[0][1], "median t_gen (grey: most seeds never)", lambda e: e.t_gen, "magma_r", None),
        (axes[1][0], "median t_gen / t_fit", lambda e: e.ratio, "magma_r", None),
        (axes[1][1], "median final test accuracy", lambda e: e.final_test_acc, "viridis", (0, 1)),
    ]
    for ax, title, value, cmap, limits in panels:
        colors = plt.get_cmap(cmap).with_extremes(bad="#bbbbbb")
        vmin, vmax = limits or (None, None)
        if scattered:
            points = list(cells)
            medians = [median_of([value(e) for e in cells[p]]) for p in points]
            finite = [i for i, v in enumerate(medians) if math.isfinite(v)]
            never = [i for i, v in enumerate(medians) if not math.isfinite(v)]
            ax.scatter(
                [points[i][0] for i in never],
                [points[i][1] for i in never],
                c="#bbbbbb",
                s=60,
                edgecolors="black",
                linewidths=0.5,
            )
            image = ax.scatter(
                [points[i][0] for i in finite],
                [points[i][1] for i in finite],
                c=[medians[i] for i in finite],
                cmap=colors,
                vmin=vmin,
                vmax=vmax,
                s=60,
                edgecolors="black",
                linewidths=0.5,
            )
        else:
            grid = [[median_of([value(e) for e in cells.get((x, y), ())]) for x in xs] for y in ys]
            shown = [[v if math.isfinite(v) else math.nan for v in row] for row in grid]
            image = ax.imshow(
                shown, cmap=colors, origin="lower", aspect="auto", vmin=vmin, vmax=vmax
            )
            empty = [[1.0 if (x, y) not in cells else math.nan for x in xs] for y in ys]
            ax.imshow(empty, cmap=ListedColormap(["white"]), origin="lower", aspect="auto")
            ax.set_xticks(range(len(xs)), [_tick(x) for x in xs])
            ax.set_yticks(range(len(ys)), [_tick(y) for y in ys])
        fig.colorbar(image, ax=ax, fraction=0.046)
        ax.set_title(title)
    for ax in axes.flat:
        ax.set(xlabel=x_name, ylabel=y_name)
        if scattered:
            for values, set_scale in ((xs, ax.set_xscale), (ys, ax.set_yscale)):
                if min(values) > 0 and max(values) >= 20 * min(values):
                    set_scale("log")
    fig.tight_layout()
    return fig


def _scattered(cells: dict, xs: list, ys: list) -> bool:
    """Whether the points of a diagram are scattered (numbers on both axes, filling less than
    half of the grid of their values: a sampled box), to be drawn where they lie."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in [*xs, *ys])
    return numeric and len(cells) < len(xs) * len(ys) / 2


def _tick(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
