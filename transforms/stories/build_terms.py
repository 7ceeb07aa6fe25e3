"""Builds ``data/term_df.json`` (see :mod:`transforms.stories.terms`) from the English news texts in
``shared/corpora``; deterministic. Run from the repository root::

    python -m transforms.stories.build_terms [--corpora ../shared/corpora]

Words in fewer than 2 documents are left out (the reader gives them df 0, which is what they are)."""
from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Iterator

from transforms.stories.terms import TERM_DF_FILE, words

__all__ = ["main"]


def _texts(corpora: Path) -> Iterator[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "eval" / "audit"))
    from build_candidates import docs  # the audit set's reader of VOA, fundus, feeds, PETRARCH2 and PLOVER

    for doc in docs(all_voa=True):
        yield f"{doc.get('title') or ''}\n{doc['text']}"
    for line in (corpora / "wikievents-dev" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)["text"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "corpora")
    args = parser.parse_args(argv)
    df: collections.Counter = collections.Counter()
    n = 0
    for text in _texts(args.corpora):
        n += 1
        df.update(set(words(text)))
    kept = {w: c for w, c in sorted(df.items()) if c >= 2}
    TERM_DF_FILE.write_text(json.dumps({"documents": n, "df": kept}, ensure_ascii=False, separators=(",", ":")) + "\n",
                            encoding="utf-8")
    print(f"{TERM_DF_FILE}: {n} documents, {len(kept)} words")
    return 0


if __name__ == "__main__":
    sys.exit(main())
