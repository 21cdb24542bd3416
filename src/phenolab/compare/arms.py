"""Arms of a comparison: `ID[:k=v,...]` (an intervention), `set:FIELD=VALUE[,...]` (config
changes), or parts of both joined by `+`; their matched controls; the planned list of arms.

A field that names a parent run (`init_from`, `ticket_from`, `embed_from`) may be set to `@K`:
the run of arm K with the same seed (0 the baseline, 1 the first arm given, ...; an earlier arm).
So `set:wd=0,sparsity=0.6,ticket_from=@0` is a grokking ticket of each baseline run, and after an
arm `set:d_embed=4,width=16`, `set:embed_rank=4,embed_from=@1` is GrokTransfer from it, seed by
seed. Such an arm trains after its parents (harness.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from phenolab.config import RunConfig, field_specs
from phenolab.errors import ConfigError
from phenolab.interventions import INTERVENTIONS, canonical, canonical_specs
from phenolab.interventions.spec import parse

SET = "set:"
LINK_FIELDS = ("init_from", "ticket_from", "embed_from")  # may name an arm: `@K`
# fields an arm cannot set: seeds come from the comparison, interventions from spec parts
_NOT_SETTABLE = {"seed": "seeds are the comparison's (--seeds)", "interventions": "name them"}


@dataclass(frozen=True)
class Arm:
    """The baseline plus `interventions` (canonical specs, after the baseline's own) and config
    `changes` (field → value, a string as typed or a value); `links` (field → arm name) set a
    run-id field to the run of that arm with the same seed (`@K` as typed: plan_arms names
    the arm)."""

    name: str
    interventions: tuple[str, ...] = ()
    changes: tuple[tuple[str, Any], ...] = ()
    control_of: str | None = None  # the arm this one is a matched control of
    matched: str = ""  # what the control matches, e.g. "lr/(1+λ)"
    links: tuple[tuple[str, str], ...] = ()

    def config(
        self, baseline: RunConfig, parents: Mapping[str, RunConfig] | None = None
    ) -> RunConfig:
        """This arm's config on `baseline` (one seed); `parents`: the configs of the arms its
        links name, at the same seed."""
        linked = {field: (parents or {})[arm].run_id() for field, arm in self.links}
        try:
            return baseline.replace(
                **dict(self.changes),
                **linked,
                interventions=(*baseline.train.interventions, *self.interventions),
            )
        except ConfigError as exc:
            raise ConfigError(f"arm {self.name!r}: {exc}") from None


def _part_boundary() -> re.Pattern:
    """A `+` that starts a new part: before `set:` or a registered intervention id (so that
    values such as `set:op=x+y` or `lr=1e+3` keep theirs)."""
    ids = "|".join(re.escape(i) for i in sorted(INTERVENTIONS, key=len, reverse=True))
    return re.compile(rf"\+(?=\s*(?:{re.escape(SET)}|(?:{ids})\s*(?::|\+|$)))")


def parse_arm(text: str) -> Arm:
    """`ID[:k=v,...]`, `set:FIELD=VALUE,...`, or parts of both joined by `+` → an Arm named by
    its canonical spelling. Mistakes are ConfigErrors that name the arm and the bad part."""
    text = text.strip()
    if not text:
        raise ConfigError("arm: empty (expected ID[:k=v,...] or set:FIELD=VALUE, joined by +)")
    specs: list[str] = []
    changes: dict[str, str] = {}
    for part in (p.strip() for p in _part_boundary().split(text)):
        if not part:
            raise ConfigError(f"arm {text!r}: an empty part between '+'")
        if part.startswith(SET):
            for key, value in _changes(text, part[len(SET) :]):
                if key in changes:
                    raise ConfigError(f"arm {text!r}: {key} set twice")
                changes[key] = value
        else:
            try:
                specs.append(canonical(part))
            except ConfigError as exc:
                raise ConfigError(f"arm {text!r}: {exc}") from None
    name_parts = list(specs)
    if changes:
        name_parts.append(SET + ",".join(f"{k}={v}" for k, v in changes.items()))
    links = tuple((k, v) for k, v in changes.items() if k in LINK_FIELDS and v.startswith("@"))
    plain = tuple((k, v) for k, v in changes.items() if (k, v) not in links)
    return Arm("+".join(name_parts), tuple(specs), plain, links=links)


def _changes(text: str, body: str) -> list[tuple[str, str]]:
    specs = field_specs()
    out = []
    # a comma inside a tuple field's value (betas=0.9,0.98) joins back onto its field
    items: list[str] = []
    for item in body.split(","):
        if items and "=" not in item:  # a tuple field's next value (betas=0.9,0.98)
            items[-1] += "," + item
        else:
            items.append(item)
    for item in items:
        key, eq, value = (s.strip() for s in item.partition("="))
        if not eq or not key or not value:
            raise ConfigError(f"arm {text!r}: expected set:FIELD=VALUE[,...], got {item!r}")
        if key not in specs:
            raise ConfigError(
                f"arm {text!r}: unknown config field {key!r} (valid fields: "
                f"{', '.join(sorted(n for n in specs if n not in _NOT_SETTABLE))})"
            )
        if key in _NOT_SETTABLE:
            raise ConfigError(f"arm {text!r}: set:{key} is not allowed ({_NOT_SETTABLE[key]})")
        out.append((key, value))
    return out


def matched_controls(
    arm: Arm, baseline: RunConfig, parents: Mapping[str, RunConfig] | None = None
) -> list[Arm]:
    """The matched controls of `arm`: its config changes without its interventions (when it has
    both), each intervention's own `matched_controls` (interventions/base.py), and those of
    its start (`start_controls`: a ticket's, GrokTransfer's). Controls keep the arm's links
    (`parents`: the linked arms' configs, as for Arm.config)."""
    out = []
    if arm.interventions and (arm.changes or arm.links):
        name = arm.name[arm.name.index(SET) :]  # the set: part (specs never hold "set:")
        out.append(
            Arm(name, (), arm.changes, arm.name, "without its interventions", links=arm.links)
        )
    flat = arm.config(baseline, parents).flat()
    for i, spec in enumerate(arm.interventions):
        name, values = parse(spec)
        for control in INTERVENTIONS[name].matched_controls(values, flat):
            specs = arm.interventions
            if control.specs is not None:
                specs = (*specs[:i], *canonical_specs(control.specs), *specs[i + 1 :])
            changes = tuple((dict(arm.changes) | dict(control.overrides)).items())
            out.append(
                Arm(
                    f"{arm.name} [{control.label}]",
                    specs,
                    changes,
                    arm.name,
                    control.label,
                    links=arm.links,
                )
            )
    return out + start_controls(arm, flat)


def start_controls(arm: Arm, flat: Mapping[str, Any]) -> list[Arm]:
    """Controls of where an arm starts, from its config `flat`:
    - a magnitude ticket (ticket_from, sparsity > 0): a random mask at the same sparsity and the
      dense network at the ticket's initial norm (mask_kind random / norm-matched, run/start.py;
      Minegishi et al. 2024, §4);
    - GrokTransfer (embed_from with embed_rank r > 0): the same factored embedding A·B with A
      random too, no transfer (Xu et al. 2025, Fig. 15a)."""
    out = []
    if flat["ticket_from"] and flat["sparsity"] > 0 and flat["mask_kind"] == "magnitude":
        for kind, label in (("random", "random mask"), ("norm-matched", "initial norm")):
            changes = tuple((dict(arm.changes) | {"mask_kind": kind}).items())
            out.append(
                Arm(
                    f"{arm.name} [{label}]",
                    arm.interventions,
                    changes,
                    arm.name,
                    label,
                    links=arm.links,
                )
            )
    if flat["embed_from"] and flat["embed_rank"] > 0:
        links = tuple((f, a) for f, a in arm.links if f != "embed_from")
        changes = tuple((k, v) for k, v in arm.changes if k != "embed_from")
        out.append(
            Arm(
                f"{arm.name} [random A·B]",
                arm.interventions,
                changes,
                arm.name,
                "random A·B",
                links=links,
            )
        )
    return out


def plan_arms(
    baseline: RunConfig, arms: Sequence[str | Arm], matched: bool = False, name: str = "baseline"
) -> list[Arm]:
    """The baseline arm, then each given arm (parsed, its `@K` links naming given arm K) followed
    by its matched controls that are not already there (a control whose config another arm has
    is left out)."""
    given = [Arm(name)]
    configs: dict[str, RunConfig] = {name: baseline}  # at the baseline's seed, for the checks
    for a in arms:
        arm = _named_links(parse_arm(a) if isinstance(a, str) else a, given)
        if any(arm.name == b.name for b in given):
            raise ConfigError(f"arm {arm.name!r} given twice (or named like the baseline)")
        configs[arm.name] = arm.config(baseline, configs)  # mistakes found before training
        given.append(arm)
    if not matched:
        return given
    out = [given[0]]
    ids = {cfg.run_id() for cfg in configs.values()}
    for arm in given[1:]:
        out.append(arm)
        for control in matched_controls(arm, baseline, configs):
            cid = control.config(baseline, configs).run_id()
            if cid not in ids:
                ids.add(cid)
                out.append(control)
    return out


def _named_links(arm: Arm, given: list[Arm]) -> Arm:
    """`arm` with each `@K` link replaced by the name of given arm K (an earlier one)."""
    links = []
    for field, ref in arm.links:
        k = ref[1:]
        if ref.startswith("@") and k.isdigit() and int(k) < len(given):
            links.append((field, given[int(k)].name))
        elif ref.startswith("@"):
            raise ConfigError(
                f"arm {arm.name!r}: {field}={ref} must name an earlier arm, @0 (the baseline) to"
                f" @{len(given) - 1}"
            )
        else:
            links.append((field, ref))
    return replace(arm, links=tuple(links))


def depth(arm: Arm, by_name: Mapping[str, Arm]) -> int:
    """0 for an arm without links, else one more than its deepest parent: arms train in order
    of depth (harness.py)."""
    return max((1 + depth(by_name[parent], by_name) for _, parent in arm.links), default=0)
