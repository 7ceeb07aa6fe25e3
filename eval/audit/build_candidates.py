"""Build the audit set's candidate sentences (``eval/gold/audit/sentences.jsonl``) from ../shared/corpora.

Run once from the repository root: ``.venv/bin/python eval/audit/build_candidates.py`` (rounds 1 and 2;
``--round3`` then appends round 3, more sentences from the everyday stories; ``--round4`` a calibration
split for the confidence model). Deterministic: the
same corpora give the same file. Sources (English only): the fundus article pages of English-language
publishers (gold body text), the English real feeds (entry title + summary), VOA stories, PETRARCH2
validation sentences and the PLOVER gold records' texts. Per document, sentences holding a trigger word
(``candidate_sentence``) are preferred, plus one without, so that the set measures precision where the
lexicon fires and recall where it should. Each sentence keeps its document (title, URL, section, the
sentence's character span in the document's text, which :func:`docs` rebuilds from the corpora (the
texts are not copied here), so the system can be run on the article as it would be in production, with
the article as context. ``split`` is ``tune`` or ``held-out`` by a hash of the
document id (a document's sentences are all on one side).
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
CORPORA = REPO.parent / "shared" / "corpora"
OUT = REPO / "eval" / "gold" / "audit" / "sentences.jsonl"
ENGLISH_FUNDUS = ("us", "uk", "za", "ca", "au", "ind", "ls", "na", "tz", "my")
ENGLISH_FEEDS = ("rss-parser/guardian.rss", "feed-rs/rss_2.0_bbc.xml", "feed-rs/rss_2.0_nbcny.xml",
                 "feed-rs/rss_2.0_wirecutter.xml", "rss-parser/content-encoded.rss", "rss-parser/feedburner.atom",
                 "feed-rs/atom_mediarss_newscred_1.xml")
_SENT = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+(?=[\"“‘(]?[A-Z0-9])")


def _h(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def split(doc_id: str) -> str:
    return "held-out" if int(_h(doc_id)[:8], 16) % 2 else "tune"


def sentences(text: str):
    """(start, end) spans of the sentences of ``text`` (paragraphs, then a light regex)."""
    pos = 0
    for para in text.split("\n\n"):
        start = text.index(para, pos) if para else pos
        offset = start
        for piece in _SENT.split(para):
            i = text.index(piece, offset)
            if piece.strip():
                yield i, i + len(piece)
            offset = i + len(piece)
        pos = start + len(para)


def docs(all_voa: bool = False):
    from transforms.inputs.readers import read_input
    from transforms.normalise.text import html_to_text
    from transforms.records import RawArticle

    pairs = json.loads((CORPORA / "news-html-fundus" / "pairs.json").read_text())
    gold_cache = {}
    for p in pairs:
        if p["group"] not in ENGLISH_FUNDUS:
            continue
        path = CORPORA / "news-html-fundus" / p["gold_json"]
        gold = gold_cache.setdefault(path, json.loads(path.read_text()))[p["gold_key"]]
        paras = [x for s in gold["body"]["sections"] for x in s["paragraphs"]]
        yield {"doc": f"fundus/{p['html']}", "source": "fundus", "title": gold.get("title"), "url": p["url"],
               "section": ", ".join(gold.get("topics") or []), "text": "\n\n".join(paras), "per_doc": 5}
    for name in ENGLISH_FEEDS:
        for r in read_input(str(CORPORA / "feeds-real" / name)):
            if isinstance(r, RawArticle):
                body = html_to_text(r.text) if r.is_html else r.text
                yield {"doc": f"feeds/{name}#{r.record_index}", "source": "feeds", "title": r.title, "url": r.url,
                       "section": r.source, "text": " ".join(body.split()), "per_doc": 2}
    for i, line in enumerate(open(CORPORA / "voa" / "voa_stories.jsonl", encoding="utf-8")):
        s = json.loads(line)
        if i % 3 and not all_voa:  # a third of the stories: VOA is mostly conflict and politics
            continue
        yield {"doc": f"voa/{s['id']}", "source": "voa", "title": s["title"], "url": s["url"], "section": s["section"],
               "text": s["text"], "per_doc": 3}
    petr = (CORPORA / "petrarch2" / "PETR.Validate.records.140226.txt").read_text(encoding="utf-8", errors="replace")
    seen = set()
    for k, m in enumerate(re.finditer(r"<Text>\s*(.*?)\s*</Text>", petr, re.S)):
        text = " ".join(m.group(1).split())
        if text in seen or k % 2:
            continue
        seen.add(text)
        yield {"doc": f"petrarch2/{k}", "source": "petrarch2", "title": None, "url": None, "section": None,
               "text": text, "per_doc": 1}
    records = json.loads((CORPORA / "plover" / "PLOVER_GSR_CAMEO.txt").read_text(encoding="utf-8"))
    for k, r in enumerate(records):
        if r.get("event") == "DOCUMENT" or not r.get("text") or k % 5:
            continue
        yield {"doc": f"plover/{r['id']}", "source": "plover", "title": None, "url": None, "section": None,
               "text": " ".join(r["text"].split()), "per_doc": 1}


NON_CONFLICT_EXTRA = 4
"""More sentences from each story the first labelling round found not to be about conflict, crime or
politics (so that at least half of the set is everyday news)."""


def _non_conflict_docs() -> set:
    """Documents whose labelled sentences are all from non-conflict stories (labels of earlier rounds)."""
    labels = {}
    for path in sorted((OUT.parent / "labels").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                labels[row["id"]] = row["topic"]
    topics: dict = {}
    if OUT.exists():
        for line in OUT.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["id"] in labels:
                topics.setdefault(row["doc"], set()).add(labels[row["id"]])
    return {doc for doc, ts in topics.items() if not ts & {"conflict", "crime", "politics"}}


EVERYDAY_MORE = 8
"""Round 3: up to this many more trigger sentences from each everyday-news story of the fundus pages and
real feeds (the stories earlier rounds labelled as not about conflict, crime or politics)."""


def more_everyday() -> int:
    """Append round 3 to ``sentences.jsonl``: sentences not chosen before, ordered by a hash as in
    round 1, marked ``"round": 3``. Deterministic; a second call adds nothing."""
    from transforms.nlp.events.lexicon import candidate_sentence

    existing = [json.loads(line) for line in OUT.read_text(encoding="utf-8").splitlines()]
    if any(r.get("round") == 3 for r in existing):
        print("round 3 is already in the file")
        return 0
    chosen = {(r["doc"], r["start"]) for r in existing}
    everyday = _non_conflict_docs()
    out = []
    for d in docs():
        if d["source"] not in ("fundus", "feeds") or d["doc"] not in everyday:
            continue
        spans = [(a, b) for a, b in sentences(d["text"]) if 20 <= b - a <= 600]
        hits = sorted((s for s in spans if candidate_sentence(d["text"][s[0]:s[1]]) and (d["doc"], s[0]) not in chosen),
                      key=lambda s: _h(f"round3{d['doc']}{s}"))
        for a, b in sorted(hits[:EVERYDAY_MORE]):
            out.append({"id": _h(f"{d['doc']}|{a}")[:12], "split": split(d["doc"]), "source": d["source"],
                        "doc": d["doc"], "title": d["title"], "url": d["url"], "section": d["section"],
                        "sentence": d["text"][a:b], "start": a, "end": b, "has_trigger_word": True, "round": 3})
    with open(OUT, "a", encoding="utf-8") as fh:
        for row in out:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"round 3: {len(out)} more sentences from {len({r['doc'] for r in out})} everyday stories -> "
          f"{OUT.relative_to(REPO)}; tune {sum(r['split'] == 'tune' for r in out)}")
    return 0


CALIBRATION_SIZE = 220
"""Round 4: a calibration split (``"split": "calibration"``) that rule-writing never reads: the confidence
model is fitted on it, so that its errors are those of text the rules were not written against."""


def calibration_round() -> int:
    """Append round 4: trigger sentences not chosen before, up to 3 per story, from the fundus pages and
    real feeds (everyday and news) and from the VOA stories round 1 left out, ordered by a hash, the
    first ``CALIBRATION_SIZE``. Deterministic; a second call adds nothing."""
    from transforms.nlp.events.lexicon import candidate_sentence

    existing = [json.loads(line) for line in OUT.read_text(encoding="utf-8").splitlines()]
    if any(r.get("round") == 4 for r in existing):
        print("round 4 is already in the file")
        return 0
    chosen = {(r["doc"], r["start"]) for r in existing}
    pool = []
    for d in docs(all_voa=True):
        if d["source"] not in ("fundus", "feeds", "voa"):
            continue
        spans = [(a, b) for a, b in sentences(d["text"]) if 20 <= b - a <= 600]
        hits = sorted((s for s in spans if candidate_sentence(d["text"][s[0]:s[1]]) and (d["doc"], s[0]) not in chosen),
                      key=lambda s: _h(f"round4{d['doc']}{s}"))
        for a, b in hits[:3]:
            pool.append((_h(f"round4|{d['doc']}|{a}"), d, a, b))
    out = []
    for _, d, a, b in sorted(pool, key=lambda x: x[0])[:CALIBRATION_SIZE]:
        out.append({"id": _h(f"{d['doc']}|{a}")[:12], "split": "calibration", "source": d["source"],
                    "doc": d["doc"], "title": d["title"], "url": d["url"], "section": d["section"],
                    "sentence": d["text"][a:b], "start": a, "end": b, "has_trigger_word": True, "round": 4})
    with open(OUT, "a", encoding="utf-8") as fh:
        for row in sorted(out, key=lambda r: (r["doc"], r["start"])):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"round 4: {len(out)} calibration sentences from {len({r['doc'] for r in out})} stories -> "
          f"{OUT.relative_to(REPO)}")
    return 0


def main() -> int:
    from transforms.nlp.events.lexicon import candidate_sentence

    if sys.argv[1:] == ["--round3"]:
        return more_everyday()
    if sys.argv[1:] == ["--round4"]:
        return calibration_round()

    out = []
    everyday = _non_conflict_docs()
    for d in docs():
        if d["doc"] in everyday and d["per_doc"] > 1:
            d["per_doc"] += NON_CONFLICT_EXTRA
        spans = [(a, b) for a, b in sentences(d["text"]) if 20 <= b - a <= 600]
        hits = sorted((s for s in spans if candidate_sentence(d["text"][s[0]:s[1]])), key=lambda s: _h(f"{d['doc']}{s}"))
        misses = sorted((s for s in spans if s not in hits), key=lambda s: _h(f"{d['doc']}{s}"))
        chosen = hits[:d["per_doc"]] + misses[:1 if d["per_doc"] > 1 else 0]
        if d["per_doc"] == 1:
            chosen = spans[:1]
        for a, b in sorted(chosen):
            out.append({"id": _h(f"{d['doc']}|{a}")[:12], "split": split(d["doc"]), "source": d["source"],
                        "doc": d["doc"], "title": d["title"], "url": d["url"], "section": d["section"],
                        "sentence": d["text"][a:b], "start": a, "end": b,
                        "has_trigger_word": candidate_sentence(d["text"][a:b])})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as fh:
        for row in out:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    by = {}
    for r in out:
        by[r["source"]] = by.get(r["source"], 0) + 1
    print(f"{len(out)} sentences -> {OUT.relative_to(REPO)}: {by}; tune {sum(r['split'] == 'tune' for r in out)}, "
          f"with a trigger word {sum(r['has_trigger_word'] for r in out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
