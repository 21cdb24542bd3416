"""The `phenolab` command.

    phenolab run [PRESET] [--FIELD VALUE ...]   train (or fetch / resume) runs and report them
    phenolab runs                               list stored runs
    phenolab report RUN_ID                      write a run's HTML report
    phenolab interventions                      list intervention ids and their parameters
    phenolab compare --arm ID[:k=v] [--arm ...] compare interventions with a baseline over seeds
    phenolab imp [PRESET] [--rounds N ...]      iterative magnitude pruning (lottery tickets)
    phenolab interpolate RUN_A RUN_B [--align]  loss and error on the line between two runs

Mistakes in the input get one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence

from phenolab.cli.catalog import cmd_catalog, cmd_reproduce
from phenolab.cli.compare import cmd_compare
from phenolab.cli.imp import add_parser as add_imp_parser
from phenolab.cli.imp import cmd_imp
from phenolab.cli.interpolate import cmd_interpolate
from phenolab.cli.interventions import cmd_interventions
from phenolab.cli.listing import cmd_report, cmd_runs
from phenolab.cli.run import cmd_run
from phenolab.cli.shared import EXIT_INTERRUPTED, EXIT_USAGE
from phenolab.config import field_specs
from phenolab.config.presets import PRESETS, preset
from phenolab.errors import UserError
from phenolab.store import DEFAULT_PATH


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line (no usage dump) and exits with 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.startswith("unrecognized arguments"):
            bad = message.split(":", 1)[1].split()
            option = next((a for a in bad if a.startswith("--")), bad[0])
            known = [_flag(name)[0] for name in field_specs()]
            close = difflib.get_close_matches(option.split("=")[0], known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            message = (
                f"unknown option or config field: {' '.join(bad)} "
                f"({hint}see `phenolab run --help` for the config fields)"
            )
        self.exit(EXIT_USAGE, f"phenolab: error: {message}\n")


def _flag(name: str) -> list[str]:
    dashed = "--" + name.replace("_", "-")
    return [dashed, "--" + name] if "_" in name else [dashed]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="phenolab", description="Reproduce, measure and explain grokking.", allow_abbrev=False
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser(
        "run", help="train one run (or fetch/resume it) and write its report", allow_abbrev=False
    )
    presets = "; ".join(f"{k}: {v[0]}" for k, v in PRESETS.items()).replace("%", "%%")
    run.add_argument("preset_name", nargs="?", metavar="PRESET", help=f"preset ({presets})")
    run.add_argument(
        "--preset",
        dest="preset_flag",
        metavar="PRESET",
        help="same as the positional PRESET (default: grokking)",
    )
    run.add_argument("--config", metavar="FILE", help="JSON config file (nested or flat fields)")
    _store_flag(run)
    run.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present)")
    run.add_argument("--json", action="store_true", help="print one JSON object at the end")
    run.add_argument("--report", metavar="PATH", help="where to write the HTML report")
    run.add_argument("--no-report", action="store_true", help="do not write a report")
    run.add_argument(
        "--fast",
        action="store_true",
        help="fast path: the step as a CUDA graph on GPU, forward + loss through torch.compile "
        "on CPU (falls back to eager where unsupported)",
    )
    run.add_argument(
        "--seeds",
        type=int,
        metavar="N",
        help="train N seeds (from --seed on) of every config, as one ensemble",
    )
    run.add_argument(
        "--max-members",
        type=int,
        metavar="N",
        help="at most N members per ensemble shard (default: what memory allows)",
    )
    run.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="shards trained side by side in processes (default: CPU cores on CPU, 1 on GPU)",
    )
    run.add_argument(
        "--intervention",
        action="append",
        metavar="ID[:k=v,...]",
        help="an intervention on training, e.g. grokfast-ema:alpha=0.98,lamb=2 (repeatable: "
        "applied in order, after any the preset or config names; see `phenolab interventions`)",
    )
    run.add_argument(
        "--checkpoint-seconds",
        type=float,
        default=30.0,
        help="checkpoint at most this often (s of wall time; default 30)",
    )
    _config_fields(run)

    compare = sub.add_parser(
        "compare",
        help="compare interventions with a baseline over seeds: medians, speed-ups with CIs",
        description="Train the baseline and every arm over N seeds (the same splits), as few "
        "ensembles as possible, and report per arm the median and IQR of t_gen, steps to 95%% "
        "test accuracy, the speed-up over the baseline with a bootstrap CI, wall time and the "
        "seeds that never generalized. An arm: ID[:k=v,...] (an intervention), "
        "set:FIELD=VALUE[,...] (config changes), or parts joined by +, e.g. "
        "grokfast-ema+set:wd=0.1.",
        allow_abbrev=False,
    )
    compare.add_argument(
        "--baseline",
        default="grokking",
        metavar="PRESET",
        help=f"preset of the baseline (default grokking; {presets})",
    )
    compare.add_argument(
        "--arm",
        action="append",
        required=True,
        metavar="ARM",
        help="ID[:k=v,...] | set:FIELD=VALUE[,...] | parts joined by + (repeatable); a run-id"
        " field set to @K takes arm K's run of the same seed (@0: the baseline)",
    )
    compare.add_argument(
        "--seeds", type=int, default=5, metavar="N", help="seeds per arm, from --seed on (5)"
    )
    compare.add_argument(
        "--matched",
        action="store_true",
        help="add matched controls: an arm's config changes without its interventions, and "
        "each intervention's own (Grokfast: lr / (1 + λ))",
    )
    compare.add_argument(
        "--resamples", type=int, default=2000, metavar="N", help="bootstrap resamples (2000)"
    )
    compare.add_argument("--config", metavar="FILE", help="JSON config file for the baseline")
    compare.add_argument(
        "--intervention",
        action="append",
        metavar="ID[:k=v,...]",
        help="an intervention of the baseline itself (and so of every arm)",
    )
    _store_flag(compare)
    compare.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present)")
    compare.add_argument("--json", action="store_true", help="print one JSON object at the end")
    compare.add_argument("--report", metavar="PATH", help="where to write the HTML report")
    compare.add_argument("--no-report", action="store_true", help="do not write a report")
    compare.add_argument(
        "--fast", action="store_true", help="the fast path, as in `phenolab run --fast`"
    )
    compare.add_argument("--workers", type=int, metavar="N", help="worker processes (CPU)")
    compare.add_argument(
        "--max-members", type=int, metavar="N", help="at most N members per ensemble shard"
    )
    compare.add_argument(
        "--checkpoint-seconds", type=float, default=30.0, help="checkpoint at most this often"
    )
    _config_fields(compare, "baseline")

    catalog = sub.add_parser(
        "catalog", help="list catalog entries, or `catalog show ID`", allow_abbrev=False
    )
    catalog.add_argument("action", nargs="?", help="show")
    catalog.add_argument("entry_id", nargs="?", metavar="ID")
    catalog.add_argument("--json", action="store_true")
    _store_flag(catalog)

    reproduce = sub.add_parser(
        "reproduce", help="run a catalog entry and judge its expectations", allow_abbrev=False
    )
    reproduce.add_argument("entry_id", metavar="ID")
    reproduce.add_argument("--quick", action="store_true", help="the CPU-sized variant")
    reproduce.add_argument("--seeds", type=int, metavar="N", help="seeds per arm")
    reproduce.add_argument("--workers", type=int, metavar="N", help="worker processes (CPU)")
    reproduce.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present)")
    reproduce.add_argument(
        "--fast", action="store_true", help="the fast path, as in `phenolab run --fast`"
    )
    reproduce.add_argument("--json", action="store_true")
    reproduce.add_argument("--report", metavar="PATH")
    reproduce.add_argument("--no-report", action="store_true")
    _store_flag(reproduce)

    add_imp_parser(sub, presets, _config_fields, _store_flag)

    listing = sub.add_parser(
        "interventions", help="list intervention ids with their parameters", allow_abbrev=False
    )
    listing.add_argument("--json", action="store_true", help="print a JSON list")

    runs = sub.add_parser("runs", help="list stored runs", allow_abbrev=False)
    _store_flag(runs)
    runs.add_argument("--json", action="store_true", help="print a JSON list")

    report = sub.add_parser("report", help="write a run's HTML report", allow_abbrev=False)
    report.add_argument("run_id", help="run id (a unique prefix is enough)")
    _store_flag(report)
    report.add_argument("--out", metavar="PATH", help="output file (default: next to the store)")

    interpolate = sub.add_parser(
        "interpolate",
        help="loss and error on the straight line between two finished runs, and its barrier",
        allow_abbrev=False,
    )
    interpolate.add_argument("run_a", help="run id (a unique prefix is enough)")
    interpolate.add_argument("run_b", help="run id of the same architecture and data")
    interpolate.add_argument("--split", choices=("test", "train"), default="test")
    interpolate.add_argument("--points", type=int, default=31, help="values of α (default 31)")
    interpolate.add_argument(
        "--align", action="store_true", help="weight-match B's hidden units to A's first (dense)"
    )
    interpolate.add_argument("--json", action="store_true", help="print one JSON object")
    _store_flag(interpolate)
    return parser


def _config_fields(p: argparse.ArgumentParser, what: str = "the preset") -> None:
    """--FIELD VALUE for every config field."""
    fields = p.add_argument_group(f"config fields (override {what})")
    defaults = preset("grokking").flat()
    for name, (_, f) in field_specs().items():
        default = (
            ",".join(map(str, defaults[name]))
            if isinstance(defaults[name], tuple)
            else defaults[name]
        )
        fields.add_argument(
            *_flag(name),
            dest=f"field_{name}",
            metavar="VALUE",
            help=f"{f.metadata['help']} (grokking preset: {default})",
        )


def _store_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store", default=DEFAULT_PATH, help=f"SQLite run store (default: ./{DEFAULT_PATH})"
    )


COMMANDS = {
    "run": cmd_run,
    "runs": cmd_runs,
    "report": cmd_report,
    "catalog": cmd_catalog,
    "reproduce": cmd_reproduce,
    "interventions": cmd_interventions,
    "compare": cmd_compare,
    "imp": cmd_imp,
    "interpolate": cmd_interpolate,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already reported in one line
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"phenolab: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(
            "\nphenolab: interrupted; the last checkpoint is intact: run the same command "
            "to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
