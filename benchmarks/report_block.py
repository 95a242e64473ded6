"""Write a benchmark's measured table into its marked block of benchmarks/README.md."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def write_block(name: str, heading: str, text: str, readme: Path = README) -> None:
    """Replace the text between ``<!-- {name}:begin -->`` and ``<!-- {name}:end -->``; a missing block is
    appended under ``## {heading}``."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    old = readme.read_text(encoding="utf-8") if readme.exists() else "# Benchmarks\n"
    if begin not in old:
        old = f"{old.rstrip()}\n\n## {heading}\n\n{begin}\n{end}\n"
    head, _, rest = old.partition(begin)
    _, _, tail = rest.partition(end)
    readme.write_text(f"{head}{begin}\n{text}{end}{tail}", encoding="utf-8")
