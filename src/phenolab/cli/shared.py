"""What the subcommands share: exit codes, report paths, number formatting, and the options that
several commands take, each declared here once with one help text (`add_store(p)` and the like),
so that `--device` means the same thing, with the same words, in every command."""

from __future__ import annotations

import argparse
import os

from phenolab.errors import ConfigError, UserError
from phenolab.store import DEFAULT_PATH

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def default_report_path(store_path: str, name: str, suffix: str = ".html") -> str:
    """phenolab_reports/<store name>-<name>.html beside the store: two stores in one folder
    (which may hold runs of the same id) do not overwrite each other's reports."""
    stem = os.path.splitext(os.path.basename(store_path))[0]
    return os.path.join(
        os.path.dirname(os.path.abspath(store_path)), "phenolab_reports", f"{stem}-{name}{suffix}"
    )


def write_report(text: str, path: str) -> str:
    from phenolab.report.html import write_html

    try:
        return write_html(text, path)
    except OSError as exc:
        raise UserError(f"report: cannot write {path!r} ({exc.strerror})") from None


def opt(v) -> str:
    """A step count for a table: thousands separators, — for none."""
    if v is None:
        return "—"
    return f"{v:,.0f}" if isinstance(v, float) else f"{v:,}"


# -- options shared by several commands ----------------------------------------------------------
# `p` is a parser or an argument group of one.

Options = argparse.ArgumentParser | argparse._ArgumentGroup


def positive_int(text: str) -> int:
    """An argparse type for counts that must be ≥ 1 (`--seeds 0` is a mistake, not a no-op)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_store(p: Options) -> None:
    p.add_argument(
        "--store", default=DEFAULT_PATH, help=f"SQLite run store (default: ./{DEFAULT_PATH})"
    )


def add_json(p: Options) -> None:
    p.add_argument("--json", action="store_true", help="print JSON on stdout instead of text")


def add_report(p: Options) -> None:
    p.add_argument("--report", metavar="PATH", help="where to write the HTML report")
    p.add_argument("--no-report", action="store_true", help="do not write a report")


def add_seeds(p: Options, default: int | None, default_text: str) -> None:
    p.add_argument(
        "--seeds",
        type=positive_int,
        default=default,
        metavar="N",
        help=f"N seeds of every config, from its seed on, trained as ensembles ({default_text})",
    )


def execution_group(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Where and how runs train: none of these options is part of a run's config or id."""
    return p.add_argument_group("execution (where and how runs train; run ids do not change)")


def add_execution(
    p: argparse.ArgumentParser, max_members: bool = True, checkpoint_seconds: bool = True
) -> None:
    """The options of how runs train (never what they are), in their own group: --device,
    --workers, --max-members, --fast, --threads, --checkpoint-seconds, --ray."""
    group = execution_group(p)
    add_device(group)
    add_workers(group)
    if max_members:
        add_max_members(group)
    add_fast(group)
    add_threads(group)
    if checkpoint_seconds:
        add_checkpoint_seconds(group)
    add_ray(group)


RAY_LOCAL = "local"


def add_ray(p: Options) -> None:
    p.add_argument(
        "--ray",
        nargs="?",
        const=RAY_LOCAL,
        metavar="ADDRESS",
        help="train every shard as a Ray task: on a local Ray cluster started here (--ray), or "
        "on the cluster at ADDRESS (e.g. 10.0.0.1:6379; `ray start --head` prints it); one GPU "
        'per task on CUDA, --threads CPUs on CPU; needs pip install "phenolab[ray]"',
    )


def add_device(p: Options) -> None:
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when present)")


def add_workers(p: Options) -> None:
    p.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="ensemble shards trained side by side in processes (default: CPU cores on CPU, "
        "1 on GPU)",
    )


def add_threads(p: Options) -> None:
    p.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="torch CPU threads of each training process (default 1: see the README's "
        "threads measurement)",
    )


def add_fast(p: Options) -> None:
    p.add_argument(
        "--fast",
        action="store_true",
        help="fast path: the step as a CUDA graph on GPU, forward + loss through torch.compile "
        "on CPU (falls back to eager where unsupported)",
    )


def add_max_members(p: Options) -> None:
    p.add_argument(
        "--max-members",
        type=positive_int,
        metavar="N",
        help="at most N members per ensemble shard (default: what memory allows)",
    )


def add_checkpoint_seconds(p: Options) -> None:
    p.add_argument(
        "--checkpoint-seconds",
        type=float,
        default=30.0,
        metavar="S",
        help="checkpoint at most every S seconds of wall time (default 30)",
    )


def add_preset(p: argparse.ArgumentParser, default: str) -> None:
    """PRESET, positional or as --preset (dests preset_name and preset_flag)."""
    p.add_argument("preset_name", nargs="?", metavar="PRESET", help=f"preset ({preset_help()})")
    p.add_argument(
        "--preset",
        dest="preset_flag",
        metavar="PRESET",
        help=f"same as the positional PRESET (default: {default})",
    )


def preset_of(args: argparse.Namespace, default: str) -> str:
    """The preset add_preset's options name: the positional one or --preset (not two different
    ones), else `default`."""
    if args.preset_name and args.preset_flag and args.preset_name != args.preset_flag:
        raise ConfigError(f"two presets given: {args.preset_name!r} and {args.preset_flag!r}")
    return args.preset_name or args.preset_flag or default


def preset_help() -> str:
    from phenolab.config.presets import PRESETS

    return "; ".join(f"{k}: {v[0]}" for k, v in PRESETS.items()).replace("%", "%%")


def add_config_file(p: Options, of: str = "") -> None:
    p.add_argument(
        "--config", metavar="FILE", help=f"JSON config file{of} (an object: nested or flat fields)"
    )


def add_intervention(p: Options, of: str = "") -> None:
    p.add_argument(
        "--intervention",
        action="append",
        metavar="ID[:k=v,...]",
        help=f"an intervention on training{of}, e.g. grokfast-ema:alpha=0.98,lamb=2 (repeatable: "
        "applied in order, after any the preset or config names; see `phenolab interventions`)",
    )


def add_config_fields(p: argparse.ArgumentParser, what: str = "the preset") -> None:
    """--FIELD VALUE for every config field (dest field_NAME), in a group of their own."""
    from phenolab.config import field_specs
    from phenolab.config.presets import preset

    fields = p.add_argument_group(f"config fields (override {what})")
    defaults = preset("grokking").flat()
    for name, (_, f) in field_specs().items():
        default = defaults[name]
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        fields.add_argument(
            *field_flags(name),
            dest=f"field_{name}",
            metavar="VALUE",
            help=f"{f.metadata['help']} (grokking preset: {shown})".replace("%", "%%"),
        )


def field_flags(name: str) -> list[str]:
    """--with-dashes, and --with_underscores where they differ."""
    dashed = "--" + name.replace("_", "-")
    return [dashed, "--" + name] if "_" in name else [dashed]


def command_usage(name: str, positionals: str = "") -> str:
    """A short usage line for a command with config fields: argparse's own lists all of them."""
    return f"phenolab {name} {positionals}[options] [--FIELD VALUE ...]".replace("  ", " ")
