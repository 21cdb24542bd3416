"""The README's catalog table and the labels it must carry (tests/test_labels.py checks them;
`python -m tests.readme_catalog` rewrites the computed column)."""

import pathlib
import re

from phenolab.catalog import get
from phenolab.catalog.labels import quick_differences

README = pathlib.Path(__file__).parents[1] / "README.md"
HEADER = "| entry | reproduces | quick differs from the paper's settings in (computed) |"


def differences_cell(entry_id: str) -> str:
    diffs = quick_differences(get(entry_id))
    return "; ".join(diffs) if diffs else "nothing: quick = canonical"


def rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of each row of the catalog table."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(HEADER))
    out = []
    for i in range(start + 2, len(lines)):
        if not lines[i].startswith("|"):
            break
        out.append((i, [c.strip() for c in re.split(r"(?<!\\)\|", lines[i].strip())[1:-1]]))
    return out


def rewrite() -> None:
    text = README.read_text(encoding="utf-8")
    lines = text.split("\n")
    for i, cells in rows(text):
        cells[2] = differences_cell(cells[0].strip("`"))
        lines[i] = "| " + " | ".join(cells) + " |"
    README.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    rewrite()
