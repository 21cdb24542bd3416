"""Intervention specs: `ID[:name=value,...]` strings, parsed, checked and put in canonical form.

The canonical form names only parameters that differ from their defaults, in sorted order
(`grokfast-ema:lamb=5.0`), so that two spellings of one intervention give one run id. The
order of the specs in a config is kept: it is the order the hooks run in.
"""

from __future__ import annotations

from collections.abc import Iterable

from phenolab.errors import ConfigError


def _registry():
    from phenolab.interventions import INTERVENTIONS

    return INTERVENTIONS


def join_fragments(items: Iterable[str]) -> list[str]:
    """Undo a split on commas: `grokfast-ema:alpha=0.9,lamb=2` split into
    [`grokfast-ema:alpha=0.9`, `lamb=2`] is one spec again (an id never holds `=`)."""
    out: list[str] = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        if out and "=" in item and ":" not in item:
            out[-1] += "," + item
        else:
            out.append(item)
    return out


def parse(spec: str) -> tuple[str, dict[str, float | int]]:
    """`ID[:k=v,...]` → (id, every parameter's value, defaults filled in)."""
    registry = _registry()
    name, _, rest = spec.strip().partition(":")
    name = name.strip()
    cls = registry.get(name)  # a ConfigError naming the valid ids
    params = {p.name: p for p in cls.params}
    values: dict[str, float | int] = {p.name: p.default for p in cls.params}
    given: set[str] = set()
    for item in (s.strip() for s in rest.split(",")) if rest.strip() else ():
        key, eq, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not eq or not key or not raw:
            raise ConfigError(f"interventions: {spec!r}: expected name=value, got {item!r}")
        if key not in params:
            valid = ", ".join(params) or "none"
            raise ConfigError(f"interventions: {name} has no parameter {key!r} (valid: {valid})")
        if key in given:
            raise ConfigError(f"interventions: {name}: {key} given twice")
        given.add(key)
        p = params[key]
        try:
            value: float | int = float(raw)
            if p.integer:
                if not float(value).is_integer():
                    raise ValueError
                value = int(value)
        except (ValueError, OverflowError):
            kind = "an integer" if p.integer else "a number"
            raise ConfigError(f"interventions: {name} {key} must be {kind}, got {raw!r}") from None
        if value != value or not p.valid(value):  # NaN fails every check
            raise ConfigError(f"interventions: {name} {key} must be {p.valid_text}, got {raw}")
        values[key] = value
    return name, values


Parsed = tuple[str, dict[str, float | int]]  # (id, every parameter's value)


def parse_specs(specs: Iterable[str] | str) -> tuple[Parsed, ...]:
    """A config's interventions parsed, in order (a comma-split list is joined back first)."""
    if isinstance(specs, str):
        specs = specs.split(",")
    return tuple(parse(s) for s in join_fragments(specs))


def canonical_of(parsed: Parsed) -> str:
    """A parsed spec with only non-default parameters, sorted: `grokfast-ema:lamb=5.0`."""
    name, values = parsed
    defaults = {p.name: p.default for p in _registry()[name].params}
    changed = [f"{k}={values[k]!r}" for k in sorted(values) if values[k] != defaults[k]]
    return name + (":" + ",".join(changed) if changed else "")


def canonical(spec: str) -> str:
    """The spec with only non-default parameters, sorted: `grokfast-ema:lamb=5.0`."""
    return canonical_of(parse(spec))


def canonical_specs(specs: Iterable[str] | str) -> tuple[str, ...]:
    """A config's interventions in canonical form (a comma-split list is joined back)."""
    return tuple(canonical_of(p) for p in parse_specs(specs))


def signature(parsed: Iterable[Parsed]) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
    """What the members of one ensemble must share: each intervention's id, in order, with its
    integer parameters (they fix buffer shapes, e.g. Grokfast-MA's window); float parameters
    become per-member tensors and may differ."""
    registry = _registry()
    return tuple(
        (name, tuple((p.name, int(values[p.name])) for p in registry[name].params if p.integer))
        for name, values in parsed
    )


def describe_signature(sig: tuple) -> str:
    """`grokfast-ma(window=10), orthograd` for an error message; `none` when empty."""
    parts = []
    for name, integers in sig:
        given = ", ".join(f"{k}={v}" for k, v in integers)
        parts.append(f"{name}({given})" if given else name)
    return ", ".join(parts) or "none"
