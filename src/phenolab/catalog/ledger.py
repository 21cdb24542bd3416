"""The ledger: what makes a preregistration checkable. Each registration is a row appended to
the store's `registrations` table (never edited): the experiment's id, the sha256 of its
canonical content (arms and expectations: every arm's configs for both variants, its parent
link, the seed counts; every expectation's claim, read-out, operator and threshold), the time,
phenolab's version, and which of its runs the store already held — none, for a true
preregistration.

- `phenolab prereg FILE` registers an experiment file (again only when it changed: a changed
  file is a new registration);
- `phenolab reproduce FILE` refuses a file that is not registered, or that changed since its
  last registration, and stamps every verdict with the registration's hash;
- `phenolab reproduce ID` (a built-in entry) appends the entry's hash each time, so a changed
  expectation or read-out shows up as a new hash beside the verdicts judged under the old one.

A built-in entry's read-outs are Python functions: its content holds a fingerprint of each
one's source (and of the phenolab functions it calls, two levels deep), so redefining a measure
changes the hash. An experiment file's read-outs are names of the vocabulary with parameters;
their code's fingerprint is kept beside the content (`code`, not hashed) and a change of it is
reported, not refused: the file did not change.
"""

from __future__ import annotations

import datetime
import hashlib
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from phenolab import __version__
from phenolab.catalog.entry import Entry
from phenolab.errors import UserError

PREREG, REPRODUCED = "prereg", "reproduced"


@dataclass(frozen=True)
class Registration:
    experiment: str
    hash: str  # sha256 hex of the canonical content
    kind: str  # PREREG or REPRODUCED
    created: float
    version: str
    content: dict
    source: str | None  # the experiment file's text
    existing: list[str]  # its runs the store held at registration

    @property
    def short(self) -> str:
        return self.hash[:12]

    def when(self) -> str:
        return utc(self.created)

    def describe(self) -> str:
        """'prereg 3f2a…  2026-12-07 13:05:12 UTC, phenolab 0.1.0, before any of its runs'."""
        before = (
            "before any of its runs"
            if not self.existing
            else f"{len(self.existing)} of its runs already in the store"
        )
        return f"{self.kind} {self.short} at {self.when()}, phenolab {self.version}, {before}"

    def as_dict(self) -> dict:
        return {
            "hash": self.hash,
            "kind": self.kind,
            "created": self.created,
            "time": self.when(),
            "version": self.version,
            "existing_runs": self.existing,
        }


def utc(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )


# -- the canonical content and its hash ---------------------------------------------------------


def content(entry: Entry) -> dict:
    """What a registration hashes (everything but `code`)."""
    arms = [
        {
            "name": a.name,
            "canonical": a.config.canonical(),
            "quick": None if a.quick is None else a.quick.canonical(),
            "parent": a.parent,
            "link": a.link if a.parent else None,
            "in_quick": a.in_quick,
        }
        for a in entry.arms
    ]
    expectations, code = [], {}
    for x in entry.expectations:
        item = {"id": x.id, "claim": x.claim, "op": x.op, "threshold": x.threshold}
        item["unit"] = x.unit
        if x.declared is not None:
            item["readout"] = x.declared
            code[x.id] = _fingerprint(_vocabulary_fn(x.declared["readout"]))
        else:
            item["readout"] = _fingerprint(x.readout)
        expectations.append(item)
    return {
        "id": entry.id,
        "seeds": entry.seeds,
        "quick_seeds": entry.quick_seeds,
        "arms": arms,
        "expectations": expectations,
        "code": code,  # an experiment file's read-outs' code: reported when it changes
    }


def digest(c: dict) -> str:
    hashed = {k: v for k, v in c.items() if k != "code"}
    text = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(entry: Entry) -> str:
    return digest(content(entry))


def _vocabulary_fn(name: str) -> Callable:
    from phenolab.catalog.vocabulary import READOUTS

    return READOUTS[name].fn


def _source_sha(fn: Callable) -> str:
    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        src = getattr(fn, "__qualname__", repr(fn))
    return hashlib.sha256(src.encode()).hexdigest()[:16]


def _fingerprint(fn: Callable, depth: int = 2) -> dict:
    """A Python read-out's identity: its name, its source's hash, the simple values it closes
    over and the fingerprints of the phenolab functions it calls or closes over."""
    fn = inspect.unwrap(fn)
    out: dict = {"function": getattr(fn, "__qualname__", repr(fn)), "source": _source_sha(fn)}
    code = getattr(fn, "__code__", None)
    if code is None:
        return out
    values, calls = [], {}
    for cell in fn.__closure__ or ():
        try:
            v = cell.cell_contents
        except ValueError:
            continue
        if isinstance(v, str | int | float | bool | tuple) or v is None:
            values.append(repr(v))
        elif callable(v) and depth and _ours(v):
            calls[getattr(v, "__qualname__", "?")] = _fingerprint(v, depth - 1)
    for name in code.co_names:
        g = fn.__globals__.get(name)
        if callable(g) and depth and _ours(g) and inspect.isfunction(g):
            calls[name] = _fingerprint(g, depth - 1)
    if values:
        out["closure"] = values
    if calls:
        out["calls"] = dict(sorted(calls.items()))
    return out


def _ours(obj) -> bool:
    return (getattr(obj, "__module__", "") or "").startswith("phenolab.")


# -- registrations ------------------------------------------------------------------------------


def run_ids(entry: Entry) -> list[str]:
    """Every run id the experiment trains, canonical and quick, at its own seed counts."""
    from phenolab.catalog.reproduce import arm_configs

    ids: list[str] = []
    for quick, n in ((False, entry.seeds), (True, entry.quick_seeds)):
        try:
            arms = arm_configs(entry, quick, n)
        except ValueError:
            continue
        ids += [c.run_id() for cs in arms.values() for c in cs]
    return list(dict.fromkeys(ids))


def _row(r: dict) -> Registration:
    return Registration(
        r["experiment"],
        r["hash"],
        r["kind"],
        r["created"],
        r["version"],
        r["content"],
        r["source"],
        r["existing"],
    )


def registrations(store, experiment: str) -> list[Registration]:
    return [_row(r) for r in store.registrations(experiment)]


def latest(store, experiment: str, kind: str | None = None) -> Registration | None:
    """The experiment's latest registration (of `kind`, if given)."""
    rows = [r for r in registrations(store, experiment) if kind is None or r.kind == kind]
    return rows[-1] if rows else None


def register(store, entry: Entry, kind: str) -> tuple[Registration, bool]:
    """Append `entry`'s registration, unless (for PREREG) its latest one has the same hash:
    (the registration, whether it is new)."""
    c = content(entry)
    h = digest(c)
    last = latest(store, entry.id, PREREG)
    if kind == PREREG and last is not None and last.hash == h:
        return last, False
    reg = Registration(
        entry.id,
        h,
        kind,
        time.time(),
        __version__,
        c,
        entry.source,
        store.existing_runs(run_ids(entry)),
    )
    store.add_registration(
        {
            "experiment": reg.experiment,
            "hash": reg.hash,
            "kind": reg.kind,
            "created": reg.created,
            "version": reg.version,
            "content": reg.content,
            "source": reg.source,
            "existing": reg.existing,
        }
    )
    return reg, True


def registered(store, entry: Entry) -> Registration:
    """The registration an experiment file is judged under: its latest, which must have the
    file's hash. A file never registered, or changed since, is a one-line UserError saying
    what to do."""
    name = entry.file or entry.id
    last = latest(store, entry.id, PREREG)
    if last is None:
        raise UserError(
            f"{name}: not registered in {store.path}; register it first: "
            f"phenolab prereg {name} --store {store.path}"
        )
    h = entry_hash(entry)
    if last.hash != h:
        raise UserError(
            f"{name}: changed since its registration {last.short} ({last.when()}); register the "
            f"change with `phenolab prereg {name} --store {store.path}` (a new registration: the "
            "report then shows the difference and the verdicts seen before it), or undo it"
        )
    return last


# -- what changed, and what had been seen -------------------------------------------------------


@dataclass
class Earlier:
    """An earlier registration of the experiment with other content: what differs from the
    current one, and the verdicts judged under it (or before any registration)."""

    registration: Registration | None  # None: verdicts recorded before any registration
    differences: list[str]
    seen: list[dict] = field(default_factory=list)  # verdict rows {variant, created, verdicts}


def earlier(store, entry: Entry, current: Registration) -> list[Earlier]:
    """Every earlier content of `entry` (by hash, first registration of each) that differs from
    `current`, with the differences and the verdicts judged under it; and the verdicts recorded
    before the entry was first registered."""
    regs = registrations(store, entry.id)
    first_of: dict[str, Registration] = {}
    for r in regs:
        first_of.setdefault(r.hash, r)
    history = store.verdict_history(entry.id)
    out = []
    for h, r in first_of.items():
        if h == current.hash:
            continue
        seen = [row for row in history if _judged_under(row) == h]
        out.append(Earlier(r, differences(r.content, current.content), seen))
    unregistered = [
        row for row in history if _judged_under(row) is None and row["created"] < current.created
    ]
    if unregistered:
        out.insert(0, Earlier(None, [], unregistered))
    return out


def _judged_under(row: dict) -> str | None:
    hashes = {v.get("registration") for v in row["verdicts"]}
    return next(iter(hashes)) if len(hashes) == 1 else None


def differences(old: dict, new: dict, path: str = "") -> list[str]:
    """What changed from `old` to `new` (contents): one line per changed leaf, arms keyed by
    name and expectations by id."""
    out: list[str] = []
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(f"{where}: removed (was {_short(old[key])})")
            elif key not in old:
                out.append(f"{where}: added ({_short(new[key])})")
            else:
                out += differences(old[key], new[key], where)
        return out
    if _keyed(old) and _keyed(new):
        a, b = _by_key(old), _by_key(new)
        for key in list(dict.fromkeys([*a, *b])):
            where = f"{path}[{key}]"
            if key not in b:
                out.append(f"{where}: removed")
            elif key not in a:
                out.append(f"{where}: added")
            else:
                out += differences(a[key], b[key], where)
        return out
    if old != new:
        out.append(f"{path}: {_short(old)} → {_short(new)}")
    return out


def _keyed(x) -> bool:
    return isinstance(x, list) and all(
        isinstance(i, dict) and ("name" in i or "id" in i) for i in x
    )


def _by_key(items: list[dict]) -> dict:
    return {i.get("name", i.get("id")): i for i in items}


def _short(v) -> str:
    text = json.dumps(v, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "…"


# -- export -------------------------------------------------------------------------------------


def export_text(reg: Registration) -> str:
    """One signed-off text of a registration: hash, time, version, runs that existed, and the
    full content (the file as written, then the canonical content that was hashed), closed by
    the sha256 of everything above it — to paste into a paper's appendix or a public
    timestamping service."""
    hashed = {k: v for k, v in reg.content.items() if k != "code"}
    body = "\n".join(
        [
            "phenolab preregistration",
            f"experiment:  {reg.experiment}",
            f"hash:        sha256:{reg.hash}",
            f"registered:  {reg.when()} ({reg.kind})",
            f"phenolab:    {reg.version}",
            "runs in the store at registration: "
            + (", ".join(reg.existing) if reg.existing else "none"),
            "",
            "---- experiment file ----" if reg.source else "---- (a built-in entry) ----",
            (reg.source or "").rstrip("\n"),
            "---- canonical content (sha256 of this JSON, compact, keys sorted = hash) ----",
            json.dumps(hashed, sort_keys=True, indent=1, ensure_ascii=False),
            "----",
        ]
    )
    signed = hashlib.sha256(body.encode()).hexdigest()
    return f"{body}\nsigned-off: sha256 of the text above = {signed}\n"
