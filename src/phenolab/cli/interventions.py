"""`phenolab interventions`: the intervention ids with their parameters and defaults."""

from __future__ import annotations

import argparse
import json

from phenolab.cli import shared


def add_parser(sub) -> None:
    p = sub.add_parser(
        "interventions",
        help="list interventions: hooks (--intervention ID) and the config fields that intervene",
    )
    p.set_defaults(handler=cmd_interventions)
    shared.add_json(p)


def cmd_interventions(args: argparse.Namespace) -> int:
    from phenolab.config.field_interventions import FIELD_INTERVENTIONS
    from phenolab.interventions import describe

    items = [item | {"kind": "hook"} for item in describe()]
    if args.json:
        print(json.dumps(items + [f.as_dict() for f in FIELD_INTERVENTIONS]))
        return 0
    width = max(len(item["id"]) for item in items)
    for item in items:
        print(f"{item['id']:<{width}}  {item['summary']}")
        for p in item["params"]:
            print(f"{'':<{width}}    {p['name']}={p['default']!r}  {p['help']} ({p['valid']})")
    print("\nuse: phenolab run PRESET --intervention ID[:name=value,...] (repeatable)")
    print("\nconfig fields that intervene (part of the run id; each a no-op at its default):")
    width = max(len(f.id) for f in FIELD_INTERVENTIONS)
    for f in FIELD_INTERVENTIONS:
        print(f"{f.id:<{width}}  {f.summary} ({f.source})")
        print(f"{'':<{width}}    {f.flags}")
    return 0
