"""``python -m schemas [README.md]``: print the table reference, or rewrite it inside README.md
between the ``<!-- schemas:begin -->`` and ``<!-- schemas:end -->`` markers."""
import pathlib
import sys

from schemas import schema_markdown

BEGIN, END = "<!-- schemas:begin -->", "<!-- schemas:end -->"


def update(path: pathlib.Path) -> None:
    text = path.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{schema_markdown()}\n{END}{tail}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        update(pathlib.Path(sys.argv[1]))
    else:
        print(schema_markdown())
