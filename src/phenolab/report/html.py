"""One self-contained HTML file per report: figures embedded as base64 PNG, no external assets."""

from __future__ import annotations

import base64
import html
import json
import math
import os
import time

from phenolab.analysis.ensemble import GroupSummary
from phenolab.analysis.events import Events
from phenolab.report.figures import (
    circle_figure,
    comparison_figure,
    curves_figure,
    ensemble_figure,
    measures_figure,
    size_figure,
    to_png,
)
from phenolab.store import RunRecord
from phenolab.store.layout import describe_layout
from phenolab.store.sqlite import EXTERNAL
from phenolab.tasks import describe

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: left; font-size: 0.92em; }
th { background: #f3f3f3; } img { max-width: 100%; } .muted { color: #777; font-size: 0.85em; }
.phase { font-weight: bold; }
"""


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _grid(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _table(rows: list[tuple[str, object]]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in rows
    )
    return f"<table>{cells}</table>"


def _environment(env: dict) -> str:
    """The environment section, led by the execution layout (members, shard, threads, CPU): the
    same run id trained in another layout may round differently (store/layout.py). Nothing
    for a log phenolab only read (no environment recorded)."""
    if not env:
        return ""
    layout = env.get("layout") if isinstance(env.get("layout"), dict) else {}
    rows = [("execution layout", describe_layout(env) or "not recorded")]
    rows += [(f"layout.{k}", v) for k, v in layout.items()]
    rows += [(k, v) for k, v in env.items() if k != "layout"]
    return "<h2>Environment</h2>" + _table(rows)


def run_title(record: RunRecord) -> str:
    if record.external is not None:
        return f"{subject(record.config)} — run {record.id}"
    task, model = record.config["task"], record.config["model"]
    return (
        f"{describe(task['op'], task['p'])}, {task['frac']:.0%} train, {model['model']} "
        f"— run {record.id}"
    )


def subject(config: dict) -> str:
    """What a run trained, in a few words: the task and model, or where a run phenolab did not
    train came from (a watched loop, a log)."""
    external = config.get(EXTERNAL)
    if external is not None:
        return f"{external['name']} ({external['source']})"
    return f"{describe(config['task']['op'], config['task']['p'])}, {config['model']['model']}"


def size_section(curve) -> str:
    """The double-descent section of a report over runs of several sizes (io.detect.SizeCurve):
    the median final test error against the size, the peak, the table."""
    fig = size_figure(curve.sizes, curve.errors, curve.peak, curve.by)
    text = "fewer than 2 sizes: no peak to find" if curve.peak is None else curve.peak.describe()
    rows = [[x, n, e] for x, n, e in zip(curve.sizes, curve.runs, curve.errors, strict=True)]
    return (
        f"<h2>Test error against {html.escape(curve.by)}</h2>"
        + _png_tag(fig, f"final test error against {curve.by}")
        + f"<p>{html.escape(text)}</p>"
        + _grid([curve.by, "runs", "median final test error"], rows)
    )


def _png_tag(fig, alt: str) -> str:
    data = base64.b64encode(to_png(fig)).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def embedding_circle(record: RunRecord, checkpoint: tuple | None):
    """(coordinates [p, 2], frequency) of the run's last checkpointed number embedding in the
    plane of its strongest Fourier frequency, for modular-arithmetic runs of models with a
    token embedding; None otherwise."""
    from phenolab.measures.rqi import circle_coordinates
    from phenolab.models.embedding import embedding_of
    from phenolab.tasks.arithmetic import OPERATIONS

    if checkpoint is None or record.external or record.config["task"]["op"] not in OPERATIONS:
        return None
    embedding = embedding_of(checkpoint[2]["model"])
    if embedding is None:
        return None
    xy, top = circle_coordinates(embedding[:, : record.config["task"]["p"]])
    return xy[0].numpy(), int(top[0])


def config_rows(config: dict, shown: list[str] | None, leave_out=()) -> list[tuple[str, object]]:
    """(section.field, value) of a run's config, only the fields in `shown` when given (the
    ones the run uses: config.used_fields), without those in `leave_out`."""
    return [
        (f"{section}.{k}", v)
        for section, fields in config.items()
        for k, v in fields.items()
        if (shown is None or k in shown) and k not in leave_out
    ]


def run_report(
    record: RunRecord, metrics: dict, events: Events, circle=None, shown: list[str] | None = None
) -> str:
    """The HTML text of one run's report (`circle`: see embedding_circle; `shown`: the config
    fields to list, default all)."""
    png = to_png(curves_figure(metrics, events.t_fit, events.t_gen, run_title(record)))
    img = base64.b64encode(png).decode()
    extra = ""
    measures = measures_figure(metrics, events.t_fit, events.t_gen, "progress measures")
    if measures is not None:
        extra += "<h2>Progress measures</h2>" + _png_tag(measures, "progress measures by step")
    if circle is not None:
        xy, frequency = circle
        fig = circle_figure(xy, frequency, f"run {record.id}, last checkpoint")
        extra += "<h2>Embedding</h2>" + _png_tag(fig, "number embedding, 2-D projection")
    time_to_gen = (record.summary or {}).get("time_to_gen")
    summary = [
        ("phase", events.phase),
        ("t_fit (train acc ≥ 0.99 sustained)", events.t_fit),
        ("t_gen (test acc ≥ 0.99 sustained)", events.t_gen),
        ("grokking delay t_gen − t_fit", events.delay),
        ("ratio t_gen / t_fit", events.ratio),
        ("final train accuracy", events.final_train_acc),
        ("final test accuracy", events.final_test_acc),
        ("time to grok (s of training)", time_to_gen),
        ("training wall time (s)", record.seconds),
        ("status", record.status),
    ]
    created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>phenolab run {record.id}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(run_title(record))}</h1>
<p>Phase: <span class="phase">{html.escape(events.phase)}</span>.
<span class="muted">Created {created}.</span></p>
<img alt="accuracy, loss and weight norm against step" src="data:image/png;base64,{img}">
{extra}
<h2>Summary</h2>{_table(summary)}
<h2>Config</h2>{_table(config_rows(record.config, shown))}
{_unused_note(shown)}
{_environment(record.env)}
<p class="muted">Written by phenolab. t_fit and t_gen: the first evaluation from which train
(test) accuracy stays ≥ τ = 0.99 to the end; phases: comprehension if t_gen ≤ 2·t_fit, grokking
beyond; semi-grokking if the train set fits and the final test accuracy is at least 25 % of the
way from chance to 1 without reaching τ; memorization below that; confusion if the train set
never fits.</p>
</body></html>
"""


def ensemble_report(
    members: list[tuple[RunRecord, dict, Events, str]],
    groups: list[GroupSummary],
    varying: list[str],
    seconds: float | None,
    shards: str,
    diagram=None,
    extra: str = "",
    shown: list[str] | None = None,
    title: str | None = None,
) -> str:
    """The HTML text of an ensemble's report. `members`: (record, metrics, events, group label);
    `diagram`: a sweep's phase diagram (a figure), shown after the curves; `extra`: HTML placed
    after the figure; `seconds`: None when not known (runs read from logs); `title`: instead of
    the task, model and varying fields."""
    first = members[0][0]
    title = title or (
        f"{subject(first.config)}: {len(members)} members varying {', '.join(varying) or 'nothing'}"
    )
    fig = ensemble_figure([(label, m, ev.t_gen) for _, m, ev, label in members], title)
    wall = "" if seconds is None else f"; {seconds:.1f} s wall time"
    img = base64.b64encode(to_png(fig)).decode()
    group_rows = [
        [
            ", ".join(f"{k}={v}" for k, v in g.values.items()) or "all",
            g.members,
            f"{g.generalized}/{g.members}",
            g.median_t_gen,
            " ".join(g.spread()),
            ", ".join(f"{p}×{n}" for p, n in g.phases.items()),
        ]
        for g in groups
    ]
    member_rows = [
        [
            r.id,
            *[_field(r.config, f) for f in varying],
            ev.t_fit,
            ev.t_gen,
            ev.phase,
            ev.final_test_acc,
        ]
        for r, _, ev, _ in members
    ]
    shared = config_rows(first.config, shown, leave_out=varying)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>phenolab ensemble</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="muted">{html.escape(shards)}{wall}.</p>
<img alt="accuracy of every member and t_gen by group" src="data:image/png;base64,{img}">
{_diagram_section(diagram)}
{extra}
<h2>Groups (members that differ only in seed)</h2>
{_grid(["group", "members", "generalized", "median t_gen", "spread", "phases"], group_rows)}
<p class="muted">A member that never generalized counts as t_gen = ∞ in the median and
quartiles (shown as —). Spread: below 5 seeds the seeds' range (a seed that never generalized
makes its upper end "never"), from 5 seeds the interquartile range.</p>
<h2>Members</h2>
{_grid(["run id", *varying, "t_fit", "t_gen", "phase", "final test acc"], member_rows)}
<h2>Shared config</h2>{_table(shared)}
{_unused_note(shown)}
{_environment(first.env)}
</body></html>
"""


def _diagram_section(fig) -> str:
    if fig is None:
        return ""
    return (
        "<h2>Phase diagram</h2>\n"
        + _png_tag(fig, "phase diagram: majority phase, t_gen, t_gen / t_fit, test accuracy")
        + '\n<p class="muted">Each cell: the majority phase over its seeds (other swept '
        "fields pooled in), and the medians over them (a seed that never generalized counts "
        "as ∞; grey: most never did; white: no point there).</p>"
    )


def diagram_report(fig, title: str, header: list[str], rows: list[list[object]]) -> str:
    """The HTML text of a stored sweep's phase diagram (`phenolab diagram`), with its cells."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>phenolab phase diagram</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
{_diagram_section(fig)}
<h2>Cells</h2>
{_grid(header, rows)}
</body></html>
"""


def _unused_note(shown: list[str] | None) -> str:
    if shown is None:
        return ""
    return (
        '<p class="muted">Fields the task and model do not read, left at their defaults, '
        "are not shown (all fields: <code>phenolab run --help</code>).</p>"
    )


def _field(config: dict, name: str):
    for fields in config.values():
        if name in fields:
            return fields[name]
    return None


def write_html(text: str, path: str) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def _steps(t: float | None) -> str:
    """A t_gen or quantile of t_gens; None: never (beyond the run)."""
    return "never" if t is None else f"{t:,.0f}"


def _ledger_section(reproduction) -> str:
    """The registration the verdicts were judged under, and every earlier content of the
    entry with what changed since and the verdicts seen under it (catalog/ledger.py)."""
    reg = getattr(reproduction, "registration", None)
    if reg is None:
        return ""
    before = (
        "before any of its runs were in the store: a preregistration"
        if not reg.existing
        else f"{len(reg.existing)} of its runs were already in the store: "
        + html.escape(", ".join(reg.existing))
    )
    parts = [
        "<h2>Registration</h2>",
        f"<p>Judged under registration <code>{reg.hash}</code> ({html.escape(reg.kind)}, "
        f"{html.escape(reg.when())}, phenolab {html.escape(reg.version)}); registered "
        f"{before}.</p>",
    ]
    for e in getattr(reproduction, "earlier", []):
        if e.registration is None:
            head = "Verdicts recorded before any registration"
        else:
            head = (
                f"Earlier registration <code>{e.registration.short}</code> "
                f"({html.escape(e.registration.when())}) — changed since"
            )
        diffs = "".join(f"<li>{html.escape(d)}</li>" for d in e.differences)
        seen = "".join(
            f"<li>{html.escape(row['variant'])}: "
            + html.escape(", ".join(f"{v['expectation']} {v['verdict']}" for v in row["verdicts"]))
            + "</li>"
            for row in e.seen
        )
        parts.append(
            f"<h3>{head}</h3>"
            + (f"<ul>{diffs}</ul>" if diffs else "")
            + f"<p>Verdicts seen then:</p><ul>{seen or '<li>none</li>'}</ul>"
        )
    return "\n".join(parts)


def checklist(reproduction) -> list[tuple[str, str]]:
    """Jeffares & van der Schaar's self-assessment questions (ICML 2025, §5), answered from what
    phenolab holds — the runs' tasks and models, the verdicts, the registration — and left
    visibly open where only the researcher can answer."""
    setups = sorted(
        {
            (r.record.config["task"]["op"], r.record.config["model"]["model"])
            for results in reproduction.outcome.values()
            for r in results
        }
    )
    listed = "; ".join(f"{op} with {model}" for op, model in setups)
    if len(setups) > 1:
        edge = f"Run on {len(setups)} task/model pairs here: {listed}."
    else:
        edge = f"Run on one task and model only ({listed}): whether it holds elsewhere is open."
    counts: dict[str, int] = {}
    for v in reproduction.verdicts:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    tally = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none judged"
    falsifiable = (
        f"{len(reproduction.verdicts)} expectation(s), each a threshold a run could miss: {tally}."
        + (" It did fail here." if counts.get("FAIL") else "")
    )
    reg = getattr(reproduction, "registration", None)
    if reg is None:
        prereg = "No registration recorded for this reproduction."
    elif not reg.existing:
        prereg = (
            f"Yes: registration {reg.hash} ({reg.when()}) was recorded before any of its runs "
            "was in the store."
        )
    else:
        prereg = (
            f"Not before its runs: {len(reg.existing)} of them were in the store when "
            f"registration {reg.hash} ({reg.when()}) was recorded."
        )
    return [
        ("Is it an edge case?", edge),
        (
            "Does the explanation predict anything else?",
            "Open — for the researcher: phenolab checks only the expectations listed above.",
        ),
        ("Is it falsifiable?", falsifiable),
        ("Was it preregistered?", prereg),
    ]


def entry_report(reproduction, store) -> str:
    """The HTML text of a catalog entry's reproduction: claims, verdicts, figures, arms."""
    from phenolab.analysis.ensemble import summarize_group

    entry = reproduction.entry
    members = [
        (name, store.metrics(r.record.id), r.events.t_gen)
        for name, results in reproduction.outcome.items()
        for r in results
    ]
    variant = "quick (CPU)" if reproduction.quick else "canonical"
    # the label says what a quick variant changes from the paper's settings (computed)
    label = getattr(reproduction, "label", variant)
    common = ""  # accuracy against step; regression runs (closed-form solves) have none
    if all("test/acc" in m for _, m, _ in members):
        title = f"{entry.id} — {variant}, {reproduction.seeds} seeds per arm"
        fig = ensemble_figure(members, title)
        common = _png_tag(fig, "accuracy of every run by arm, and t_gen by arm")
    verdict_rows = [
        [
            v.expectation,
            v.claim,
            v.verdict,
            v.measured_text(),
            f"{v.op} {v.threshold:g} {v.unit}",
            v.note,
        ]
        for v in reproduction.verdicts
    ]
    arm_rows = []
    ranged = reproduction.seeds < 5  # below 5 seeds the seeds' range, from 5 the IQR
    for name, results in reproduction.outcome.items():
        g = summarize_group(
            {}, [r.events.t_gen for r in results], [r.events.phase for r in results]
        )
        never = g.generalized < g.members
        low, high = (
            (g.t_gen_min, None if never else g.t_gen_max)
            if ranged
            else (
                g.t_gen_q1,
                g.t_gen_q3,
            )
        )
        arm_rows.append(
            [
                name,
                f"{g.generalized}/{g.members}",
                g.median_t_gen if g.median_t_gen is not None else "never",
                f"{_steps(low)} – {_steps(high)}",
                ", ".join(f"{p}×{n}" for p, n in g.phases.items()),
                " ".join(r.record.id for r in results),
            ]
        )
    history = "".join(f"<li>{html.escape(h)}</li>" for h in entry.history) or "<li>none</li>"
    ledger = _ledger_section(reproduction)
    extra = entry.own_figures(reproduction.outcome, store)
    own_figures = "".join(
        f"<figure>{_png_tag(f, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, f in extra
    )
    first = next(iter(reproduction.outcome.values()))[0].record
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>phenolab {html.escape(entry.id)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(entry.id)}: {html.escape(entry.title)}</h1>
<p>{html.escape(entry.paper)}.<br>Reproduces: {html.escape(entry.reproduces)}.</p>
<p>{html.escape(entry.description)}</p>
<h2>Verdicts ({variant})</h2>
<p><b>{html.escape(label)}</b></p>
{
        _grid(
            ["expectation", "published claim", "verdict", "measured", "threshold", "note"],
            verdict_rows,
        )
    }
{common}
{own_figures}
<h2>Arms</h2>
{
        _grid(
            [
                "arm",
                "generalized",
                "median t_gen",
                "range of t_gen" if ranged else "IQR of t_gen",
                "phases",
                "runs",
            ],
            arm_rows,
        )
    }
<p class="muted">{reproduction.seconds:.1f} s wall. A seed that never generalized counts as
t_gen = ∞; a median it makes unknown is reported as a bound and judged only where the bound
decides.</p>
{ledger}
<h2>Self-assessment (Jeffares &amp; van der Schaar 2025)</h2>
{_table(checklist(reproduction))}
<h2>Expectation history</h2><ul>{history}</ul>
{_environment(first.env)}
</body></html>
"""


def comparison_report(comparison) -> str:
    """The HTML text of a `phenolab compare` (a compare.Comparison): every arm's test accuracy
    on one figure, the table, each arm's config changes and runs."""
    c = comparison
    cfg = c.baseline
    title = (
        f"{describe(cfg.task.op, cfg.task.p)}, {cfg.model.model}: baseline {c.baseline_name} "
        f"and {len(c.arms) - 1} arm(s), {c.seeds} seed(s) each"
    )
    fig = comparison_figure(
        [(a.arm.name, [r.metrics for r in a.results], a.t_gen) for a in c.arms], title
    )
    header, *rows = c.table()
    notes = "".join(f"<p class='muted'>{html.escape(n)}</p>" for n in c.notes())
    arm_rows = [
        [
            a.arm.name,
            a.arm.control_of or "—",
            ", ".join(a.arm.interventions) or "—",
            ", ".join(f"{k}={v}" for k, v in a.arm.changes) or "—",
            " ".join(r.record.id for r in a.results),
        ]
        for a in c.arms
    ]
    first = c.arms[0].results[0].record
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>phenolab compare</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="muted">{c.seconds:.1f} s wall on {html.escape(c.device)}; ensemble shards
{html.escape(str(c.shards))}.</p>
{_png_tag(fig, "test accuracy of every arm against step, and t_gen by arm")}
<h2>Arms</h2>
{_grid(header, rows)}
{notes}
<h2>What each arm changes</h2>
{_grid(["arm", "control of", "interventions", "config changes", "runs"], arm_rows)}
<h2>Baseline config</h2>{_table(list(cfg.canonical().items()))}
{_environment(first.env)}
</body></html>
"""
