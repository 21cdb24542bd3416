"""What the subcommands share: exit codes, report paths, number formatting."""

from __future__ import annotations

import os

from phenolab.errors import UserError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def default_report_path(store_path: str, name: str) -> str:
    return os.path.join(
        os.path.dirname(os.path.abspath(store_path)), "phenolab_reports", f"{name}.html"
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
