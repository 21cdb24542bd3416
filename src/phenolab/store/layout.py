"""Where and how a run was executed, read back from the environment it recorded.

The run id names the config, not its floating-point trajectory: the same config trained alone
or as member 0 of a 4-seed ensemble, with 1 thread or 8, on an Intel or an AMD CPU, may round
differently and grok a few hundred steps apart. So every run records its execution layout, and
`phenolab runs` and the reports show it. Runs from round 2 on carry `env["layout"]` = {members,
member, shard, shards, workers, threads, cpu}; older runs have only `env["ensemble_members"]`
and `env["threads"]`. `layout_of` reads either.
"""

from __future__ import annotations

import re
from typing import Any

LAYOUT_KEYS = ("members", "member", "shard", "shards", "workers", "threads", "cpu")


def layout_of(env: dict[str, Any]) -> dict[str, Any]:
    """The layout fields a run recorded (only those it has: older runs lack most)."""
    layout = env.get("layout")
    if isinstance(layout, dict):
        return dict(layout)
    old = {"members": env.get("ensemble_members"), "threads": env.get("threads")}
    return {k: v for k, v in old.items() if v is not None}


def describe_layout(env: dict[str, Any]) -> str:
    """One short line, e.g. "4 members, shard 2/3, 1 thread, AMD EPYC 9454P" ("" if unknown).
    Member and shard indices are stored from 0 and shown from 1. On a GPU the GPU is named, as
    it is what does the arithmetic."""
    layout = layout_of(env)
    parts = []
    if "members" in layout:
        parts.append(_count(layout["members"], "member"))
    if layout.get("shards", 1) > 1:
        parts.append(f"shard {layout.get('shard', 0) + 1}/{layout['shards']}")
    if layout.get("workers", 1) > 1:
        parts.append(_count(layout["workers"], "worker"))
    if "threads" in layout:
        parts.append(_count(layout["threads"], "thread"))
    processor = env.get("gpu") or layout.get("cpu")
    if processor:
        parts.append(short_processor_name(processor))
    return ", ".join(parts)


def short_processor_name(name: str) -> str:
    """ "Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz" → "Intel Xeon Platinum 8480+";
    "AMD EPYC 9454P 48-Core Processor" → "AMD EPYC 9454P": the model, without the noise."""
    name = re.sub(r"\((R|TM|tm)\)", "", name)
    name = re.sub(r"\s*@.*$", "", name)  # clock speed
    name = re.sub(r"\b(\d+-Core |CPU\b|Processor\b)", "", name)
    return " ".join(name.split())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
