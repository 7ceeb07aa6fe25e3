"""Build the golden summaries that tests compare against (``python -m tests.golden_tools`` rewrites
them; review the diff before committing: a golden file is a claim about correct output)."""
from __future__ import annotations

import json
import pathlib
import sys
from typing import Any, Dict, List

from tests.conftest import CORPORA, NOW, SEED
from transforms.inputs.readers import read_input
from transforms.normalise.articles import build_article
from transforms.records import RecordError

GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"


def summarise_file(path: pathlib.Path) -> Dict[str, Any]:
    """Counts plus the first and last article of one input, as stable plain JSON."""
    articles: List[Dict[str, Any]] = []
    errors: Dict[str, int] = {}
    for record in read_input(str(path)):
        result = record if isinstance(record, RecordError) else build_article(record, run_id="golden", ingested_at=NOW)
        if isinstance(result, RecordError):
            key = f"{result.stage}:{result.error_type}"
            errors[key] = errors.get(key, 0) + 1
        else:
            articles.append(result)

    def brief(row):
        return {k: (row[k].isoformat() if hasattr(row[k], "isoformat") else row[k])
                for k in ("article_id", "url", "source", "title", "authors", "published_at", "language",
                          "word_count", "content_hash")} | {"text_start": row["text"][:80]}

    return {"articles": len(articles), "errors": errors,
            "first": brief(articles[0]) if articles else None, "last": brief(articles[-1]) if articles else None}


def feeds_real_summary() -> Dict[str, Any]:
    base = CORPORA / "feeds-real"
    return {str(p.relative_to(base)): summarise_file(p)
            for p in sorted(base.rglob("*")) if p.is_file() and p.suffix in (".xml", ".rss", ".atom", ".json")}


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    (GOLDEN / "feeds_real.json").write_text(json.dumps(feeds_real_summary(), indent=1, ensure_ascii=False) + "\n")
    (GOLDEN / "seed.json").write_text(json.dumps(summarise_file(SEED), indent=1, ensure_ascii=False) + "\n")
    print("rewrote", GOLDEN, file=sys.stderr)


if __name__ == "__main__":
    main()
