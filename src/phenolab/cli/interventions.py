"""`phenolab interventions`: the intervention ids with their parameters and defaults."""

from __future__ import annotations

import argparse
import json

from phenolab.cli import shared


def add_parser(sub) -> None:
    p = sub.add_parser("interventions", help="list intervention ids with their parameters")
    p.set_defaults(handler=cmd_interventions)
    shared.add_json(p)


def cmd_interventions(args: argparse.Namespace) -> int:
    from phenolab.interventions import describe

    items = describe()
    if args.json:
        print(json.dumps(items))
        return 0
    width = max(len(item["id"]) for item in items)
    for item in items:
        print(f"{item['id']:<{width}}  {item['summary']}")
        for p in item["params"]:
            print(f"{'':<{width}}    {p['name']}={p['default']!r}  {p['help']} ({p['valid']})")
    print("\nuse: phenolab run PRESET --intervention ID[:name=value,...] (repeatable)")
    return 0
