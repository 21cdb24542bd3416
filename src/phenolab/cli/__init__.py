"""The `phenolab` command.

    phenolab run [PRESET] [--FIELD VALUE ...]   train (or fetch / resume) runs and report them
    phenolab sweep --grid FIELD=VALUES [...]    a grid over any config fields, times seeds
    phenolab diagram --file SWEEP.toml          the phase diagram of a sweep's stored runs
    phenolab runs                               list stored runs
    phenolab report RUN_ID                      write a run's HTML report
    phenolab interventions                      list intervention ids and their parameters
    phenolab compare --arm ID[:k=v] [--arm ...] compare interventions with a baseline over seeds
    phenolab imp [PRESET] [--rounds N ...]      iterative magnitude pruning (lottery tickets)
    phenolab interpolate RUN_A RUN_B [--align]  loss and error on the line between two runs
    phenolab catalog [show ID]                  catalog entries (papers and their expectations)
    phenolab reproduce ID [--quick]             run a catalog entry and judge its expectations
    phenolab judge [--quick] [--measure F:FN]   score explanations of grokking on a fixed trial
    phenolab detect LOG [--by PARAM]            events and phases of runs in your own logs
    phenolab export FORMAT OUT [RUN ...]        runs to CSV / Parquet, TensorBoard or MLflow

Each command's module (cli/<command>.py) declares its own arguments in `add_parser(sub)`; the
options several commands share are declared once in cli/shared.py.

Mistakes in the input get one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence

from phenolab.cli import (
    catalog,
    compare,
    detect,
    export,
    imp,
    interpolate,
    interventions,
    judge,
    listing,
    run,
    sweep,
)
from phenolab.cli.shared import EXIT_INTERRUPTED, EXIT_USAGE
from phenolab.errors import UserError

# Each module adds its own subcommand(s) with `add_parser(sub)`, in the order `phenolab --help`
# lists them, and sets the function that runs it as the `handler` default.
COMMAND_MODULES = (
    run,
    sweep,
    compare,
    catalog,
    judge,
    imp,
    interventions,
    listing,
    interpolate,
    detect,
    export,
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line (no usage dump) and exits with 2, and does
    not guess abbreviated options (`--see` is not `--seeds`)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.commands: dict[str, argparse.ArgumentParser] = {}  # the top level's subcommands

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"phenolab: error: {message}\n")


def build_parser() -> _Parser:
    parser = _Parser(prog="phenolab", description="Reproduce, measure and explain grokking.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.add_parser(sub)
    parser.commands = sub.choices
    return parser


def _unknown_options(extra: list[str], command: argparse.ArgumentParser) -> str:
    """The one-line error for arguments the command does not take, with the closest option
    (or config field) it does take."""
    option = next((a for a in extra if a.startswith("--")), None)
    known = [s for s in command._option_string_actions if s.startswith("--")]
    close = difflib.get_close_matches(option.split("=")[0], known, n=1) if option else []
    hint = f"did you mean {close[0]}? " if close else ""
    takes_fields = any(a.dest.startswith("field_") for a in command._actions)
    what = ("option or config field" if takes_fields else "option") if option else "argument"
    purpose = " for the config fields" if takes_fields else ""
    return f"unknown {what}: {' '.join(extra)} ({hint}see `{command.prog} --help`{purpose})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            parser.error(_unknown_options(extra, parser.commands[args.command]))
    except SystemExit as exc:  # --help, or a usage error already reported in one line
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return args.handler(args)
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
