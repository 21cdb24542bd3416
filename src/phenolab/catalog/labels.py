"""Honest labels for verdicts: "canonical" (the paper's settings) or "quick" with what the quick
variant changes, computed by comparing the two configs of every arm — never typed by hand, so a
quick verdict cannot sit under a paper's figure without the list of what differs.

A field is listed when its value differs between an arm's canonical and quick config and both
configs read it: a model field that only one side's model reads (a transformer's `d_model` against
an MLP) is covered by "model: transformer → mlp". Fields whose change is the same in every arm
are listed once; a field changed differently in different arms lists each change. The seed count
and any arm the quick variant leaves out are differences too.
"""

from __future__ import annotations

from typing import Any

from phenolab.catalog.entry import Entry
from phenolab.config import RunConfig, field_specs
from phenolab.models import MODELS

CANONICAL = "canonical"
QUICK = "quick"
# the fields a reader looks for first, in this order; the rest follow alphabetically
FIRST = ("model", "op", "p", "frac", "n_train", "optimizer", "lr", "wd", "steps", "batch_size")
# set per run by reproduce (a parent's run id), not part of an arm's settings
_LINKS = ("init_from", "ticket_from", "embed_from")


def variant_name(quick: bool) -> str:
    return QUICK if quick else CANONICAL


def _value(v: Any) -> str:
    if isinstance(v, tuple | list):
        return ",".join(_value(x) for x in v) or "()"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _read_by_both(name: str, a: RunConfig, b: RunConfig) -> bool:
    """False for a model field that one of the two configs' models does not read."""
    section = field_specs()[name][0]
    if section != "model" or name in ("model", "init_scale"):
        return True
    return all(name in MODELS.get(c.model.model).fields for c in (a, b))


def config_differences(canonical: RunConfig, quick: RunConfig) -> dict[str, tuple[Any, Any]]:
    """{field: (canonical value, quick value)} for each field both read and that differs."""
    a, b = canonical.flat(), quick.flat()
    return {
        k: (a[k], b[k])
        for k in a
        if a[k] != b[k] and k not in _LINKS and _read_by_both(k, canonical, quick)
    }


def _order(name: str) -> tuple[int, str]:
    return (FIRST.index(name) if name in FIRST else len(FIRST), name)


def quick_differences(entry: Entry) -> list[str]:
    """What `reproduce ID --quick` changes from the canonical variant, one item per field, e.g.
    ["model transformer → mlp", "p 113 → 97", "steps 20,000 → 3,000", "seeds 5 → 3"]; empty
    when the quick variant is the canonical one."""
    changes: dict[str, list[tuple[str, tuple[Any, Any]]]] = {}
    for arm in entry.arms:
        if not arm.in_quick or arm.quick is None:
            continue
        for name, pair in config_differences(arm.config, arm.quick).items():
            changes.setdefault(name, []).append((arm.name, pair))
    ran = [arm for arm in entry.arms if arm.in_quick]
    out = []
    for name in sorted(changes, key=_order):
        groups: dict[tuple[Any, Any], list[str]] = {}
        for arm, pair in changes[name]:
            groups.setdefault(pair, []).append(arm)
        ranked = sorted(groups.items(), key=lambda g: -len(g[1]))
        if len(changes[name]) == len(ran) and (len(ran) == 1 or len(ranked[0][1]) > 1):
            # every arm changes: the commonest change bare, the others with their arms
            (a, b), _ = ranked[0]
            rest = [f"{', '.join(arms)}: {_value(x)} → {_value(y)}" for (x, y), arms in ranked[1:]]
            out.append(
                f"{name} {_value(a)} → {_value(b)}" + (f" ({'; '.join(rest)})" if rest else "")
            )
        else:
            named = [f"{', '.join(arms)}: {_value(x)} → {_value(y)}" for (x, y), arms in ranked]
            out.append(f"{name} ({'; '.join(named)})")
    if entry.quick_seeds != entry.seeds:
        out.append(f"seeds {entry.seeds} → {entry.quick_seeds}")
    left_out = [arm.name for arm in entry.arms if not arm.in_quick]
    if left_out:
        out.append(f"arms left out: {', '.join(left_out)}")
    return out


def label(entry: Entry, quick: bool) -> str:
    """ "canonical", or "quick (differs from canonical: …)" with the computed differences."""
    if not quick:
        return CANONICAL
    diffs = quick_differences(entry)
    if not diffs:
        return f"{QUICK} (the canonical settings)"
    return f"{QUICK} (differs from canonical: {'; '.join(diffs)})"
