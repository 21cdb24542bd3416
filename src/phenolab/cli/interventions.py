"""`phenolab interventions`: the intervention ids with their parameters and defaults."""

from __future__ import annotations

import argparse
import json


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
