"""Measurement: grokking tickets (Minegishi et al. 2024) on the `grokking` preset, CPU.

    python bench/grokking_tickets.py [--seeds 3] [--sparsity 0.4,0.6,0.8] [--store PATH]

Per seed: the preset's dense run (x+y mod 97, 30 % train, wd 1) is the parent. From its final
weights, global magnitude masks at each sparsity; each ticket is rewound to the parent's
initialisation and retrained with wd 0 (and, at --main-sparsity, also with the parent's wd 1).
Controls, every one rewound to the same initialisation: the dense net with wd 0, a random mask
with the same count per tensor (wd 0), and the dense net held at the initial weight norm of the
--main-sparsity ticket (Omnigrok's norm constraint, wd 0). Prints t_gen (first eval step after
which test accuracy stays ≥ 0.99) and final test accuracy per arm and seed, and their medians.
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch

from phenolab.config.presets import preset
from phenolab.run import train_configs
from phenolab.run.start import matched_norm
from phenolab.store import Store

DEVICE = torch.device("cpu")


def train(configs, store, workers=2):
    return train_configs(configs, store, DEVICE, workers=workers)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sparsity", default="0.4,0.6,0.8")
    parser.add_argument(
        "--main-sparsity", type=float, default=0.6, help="the ticket with wd 1 and the norm control"
    )
    parser.add_argument("--store", default="grokking_tickets.db")
    args = parser.parse_args()
    sparsities = [float(s) for s in args.sparsity.split(",")]
    store = Store(args.store)
    t0 = time.perf_counter()

    parents = [preset("grokking").replace(seed=s) for s in range(args.seeds)]
    parent_results = train(parents, store)
    arms: dict[str, list] = {"parent (dense, wd 1)": parents}
    child = [p.replace(ticket_from=p.run_id(), wd=0.0) for p in parents]
    arms["dense wd 0"] = child
    for sp in sparsities:
        arms[f"ticket {sp:.0%} wd 0"] = [c.replace(sparsity=sp) for c in child]
        arms[f"random {sp:.0%} wd 0"] = [c.replace(sparsity=sp, mask_kind="random") for c in child]
    first = args.main_sparsity
    arms[f"ticket {first:.0%} wd 1"] = [c.replace(sparsity=first, wd=1.0) for c in child]
    train([c for name, cs in arms.items() if name != "parent (dense, wd 1)" for c in cs], store)
    tickets = arms[f"ticket {first:.0%} wd 0"]
    arms[f"dense at ticket {first:.0%} norm, wd 0"] = [
        c.replace(interventions=f"norm-constraint:norm={matched_norm(store, t.run_id(), 0)}")
        for c, t in zip(child, tickets, strict=True)
    ]
    train(arms[f"dense at ticket {first:.0%} norm, wd 0"], store)

    rows = []
    for name, configs in arms.items():
        results = [store.get_run(c.run_id()) for c in configs]
        t_gen = [r.summary["t_gen"] for r in results]
        acc = [r.summary["final_test_acc"] for r in results]
        done = [t for t in t_gen if t is not None]
        rows.append(
            {
                "arm": name,
                "t_gen": t_gen,
                "median_t_gen": statistics.median(done) if len(done) == len(t_gen) else None,
                "not_generalized": len(t_gen) - len(done),
                "final_test_acc": [round(a, 4) for a in acc],
                "seconds": round(sum(r.seconds for r in results), 1),
            }
        )
    for row in rows:
        print(json.dumps(row))
    print(
        f"# {len(parent_results)} seeds, {time.perf_counter() - t0:.0f} s wall, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
