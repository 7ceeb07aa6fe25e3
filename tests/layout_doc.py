"""The README's layout section, generated from the package tree: every package and module with the
first sentence of its docstring. ``python -m tests.layout_doc`` rewrites the section in README.md;
``tests/test_docs.py`` fails when it is out of date."""
from __future__ import annotations

import ast
import pathlib
import re
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- layout:begin -->", "<!-- layout:end -->"
TOPS = ("pipelines", "transforms", "schemas")


def _summary(path: pathlib.Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    text = " ".join(doc.split())
    m = re.match(r"(.+?(?<!e\.g)(?<!i\.e)(?<!\.\.)\.)(\s|$)", text)
    first = m.group(1) if m else text
    first = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", first.replace("``", "`"))
    return first.replace("|", "\\|")


def layout_markdown() -> str:
    """One table per package folder: its modules (``__init__`` first, as the package itself)."""
    lines = []
    folders = sorted({p.parent for top in TOPS for p in (REPO / top).rglob("*.py")},
                     key=lambda f: f.relative_to(REPO).parts)
    for folder in folders:
        rel = folder.relative_to(REPO).as_posix()
        init = folder / "__init__.py"
        lines += [f"**`{rel}/`** — {_summary(init) if init.exists() else ''}", "",
                  "| module | what it is |", "|---|---|"]
        for path in sorted(folder.glob("*.py")):
            if path.name == "__init__.py":
                continue
            lines.append(f"| `{path.stem}` | {_summary(path)} |")
        data = sorted(p.name for p in folder.iterdir() if p.suffix in (".yaml", ".json") or p.name == "data")
        if data:
            lines.append(f"| data | {', '.join(f'`{d}`' for d in data)} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def update(readme: pathlib.Path = REPO / "README.md") -> None:
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{layout_markdown()}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    update(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "README.md")
