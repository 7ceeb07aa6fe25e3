"""Stories and near-duplicates: B-cubed scores of the story clustering on ECB+, and copy detection
on variants of the VOA stories.

Run from the repository root::

    .venv/bin/python eval/eval_stories.py

1. **ECB+** (``shared/corpora/ecbplus``; 982 news documents, 43 topics, each topic two different
   incidents of one kind): every document goes through the real pipeline (normalisation, the entity
   pass and the event stage), its profile is built (:func:`transforms.stories.profile.article_profile`)
   and :class:`transforms.stories.assign.StoryClusterer` clusters the documents of each half: ``tune``
   (odd topics: the settings were chosen here) and ``held-out`` (even topics). The documents carry no
   dates, so they all fall on one day and the day/place rules decide little here. Printed: B-cubed
   precision / recall / F1 against the gold clusters; the same when the documents arrive in 10 runs (in
   file order, the clusterer's state written to and read back from its JSON form between runs) instead
   of one (undated documents: one run takes them in id order, ten runs in file order, the worst case);
   the same two with a publication time per document (file order, a minute apart: the order every run
   split then shares); and the reference point, TF-IDF cosine with average-link clustering at the threshold that is
   best on each half itself (an oracle setting).
2. **Copies** (``shared/corpora/voa``): for each VOA story, five variants (trimmed last paragraph;
   another headline and a "Related:" line; paragraphs reordered; a third of the paragraphs dropped;
   boilerplate added around it), with the originals in one stream: recall of the copies (linked to their
   original) and false links between distinct stories (many share a section and a subject).
3. **Shootings** (``eval/gold/incidents``: 36 synthetic incidents of one kind told apart by place, date and
   names, 146 dated articles) through the real pipeline, with planted syndicated copies; B-cubed and copies
   found per half (incidents split by a hash of their label).
"""
from __future__ import annotations

import collections
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

CORPORA = ROOT.parent / "shared" / "corpora"
ECB = CORPORA / "ecbplus" / "docs.jsonl"
VOA = CORPORA / "voa" / "voa_stories.jsonl"


def b_cubed(pred: Dict[str, str], gold: Dict[str, str]) -> Tuple[float, float, float]:
    """B-cubed precision, recall and F1 of clusters ``pred`` (item -> cluster) against ``gold``."""
    by_pred: Dict[str, set] = collections.defaultdict(set)
    by_gold: Dict[str, set] = collections.defaultdict(set)
    for item in gold:
        by_pred[pred[item]].add(item)
        by_gold[gold[item]].add(item)
    p = r = 0.0
    for item in gold:
        both = len(by_pred[pred[item]] & by_gold[gold[item]])
        p += both / len(by_pred[pred[item]])
        r += both / len(by_gold[gold[item]])
    p, r = p / len(gold), r / len(gold)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def ecb_profiles() -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """ECB+ documents and their profiles through the real pipeline."""
    import eval_events as ev

    from transforms.normalise.articles import build_article
    from transforms.records import RawArticle
    from transforms.stories.profile import article_profile

    docs = [json.loads(line) for line in ECB.read_text(encoding="utf-8").splitlines() if line.strip()]
    pipe = ev.Pipeline()
    profiles: Dict[str, Any] = {}
    kept = []
    for start in range(0, len(docs), 16):
        batch = docs[start:start + 16]
        rows = []
        for d in batch:
            row = build_article(RawArticle(d["doc_id"], 0, "text", d["text"]), run_id="ecb",
                                ingested_at=ev._NOW)
            if isinstance(row, dict):
                rows.append((d, row))
        entities, events = pipe.analyse([r for _, r in rows])
        for (d, row), ents, evs in zip(rows, entities, events):
            profiles[d["doc_id"]] = article_profile(row, ents, evs)
            kept.append(d)
    return kept, profiles


def dated(docs: Sequence[Dict[str, Any]], profiles: Dict[str, Any]) -> Dict[str, Any]:
    """The profiles with a publication time (one minute apart, in file order), as dated feeds give them."""
    import dataclasses
    import datetime as _dt

    base = _dt.datetime(2024, 1, 1, tzinfo=_dt.timezone.utc)
    return {d["doc_id"]: dataclasses.replace(profiles[d["doc_id"]], published=base + _dt.timedelta(minutes=i))
            for i, d in enumerate(docs)}


def cluster(docs: Sequence[Dict[str, Any]], profiles: Dict[str, Any], runs: int = 1) -> Dict[str, str]:
    """Document id -> story id, the documents arriving in ``runs`` consecutive runs (file order)."""
    from transforms.stories.assign import Story, StoryClusterer

    by_article = {profiles[d["doc_id"]].article_id: d["doc_id"] for d in docs}
    size = -(-len(docs) // runs)
    state: List[Dict[str, Any]] = []
    copies = None
    article_story: Dict[str, str] = {}
    seen: Dict[str, int] = {}
    seen_docs = 0
    out: Dict[str, str] = {}
    for k in range(runs):
        part = docs[k * size:(k + 1) * size]
        clusterer = StoryClusterer(stories=[Story.from_json(json.loads(json.dumps(s))) for s in state],
                                   copies=copies, article_story=article_story,
                                   seen=json.loads(json.dumps(seen)), seen_docs=seen_docs)
        for a in clusterer.add_all(profiles[d["doc_id"]] for d in part):
            out[by_article[a.article_id]] = a.story_id
        state = [s.to_json() for s in clusterer.stories.values()]
        copies, article_story = clusterer.copies, clusterer.article_story
        seen, seen_docs = clusterer.seen, clusterer.seen_docs
    return out


def average_link_oracle(docs: Sequence[Dict[str, Any]], profiles: Dict[str, Any], gold: Dict[str, str]):
    """TF-IDF cosine, average-link, best threshold on these very documents: (threshold, P, R, F1)."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    from transforms.stories.terms import cosine

    ids = [d["doc_id"] for d in docs]
    n = len(ids)
    dist = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            dist[i, j] = dist[j, i] = 1.0 - cosine(profiles[ids[i]].terms, profiles[ids[j]].terms)
    tree = linkage(squareform(np.clip(dist, 0, None), checks=False), "average")
    best = (0.0, 0.0, 0.0, -1.0)
    for t in [x / 100 for x in range(5, 60)]:
        labels = fcluster(tree, 1 - t, "distance")
        p, r, f = b_cubed({i: str(label) for i, label in zip(ids, labels)}, {i: gold[i] for i in ids})
        if f > best[3]:
            best = (t, p, r, f)
    return best


def ecb_report() -> Dict[str, float]:
    import os
    import pickle

    started = time.perf_counter()
    cache = os.environ.get("NEWSBEAM_EVAL_CACHE")  # a pickle of the profiles, for trying settings quickly
    if cache and os.path.exists(cache):
        docs, profiles = pickle.loads(Path(cache).read_bytes())
    else:
        docs, profiles = ecb_profiles()
        if cache:
            Path(cache).write_bytes(pickle.dumps((docs, profiles)))
    gold = {d["doc_id"]: d["cluster"] for d in docs}
    print(f"ECB+: {len(docs)} documents, {len(set(gold.values()))} incidents, {len({d['topic'] for d in docs})} topics "
          f"(pipeline {time.perf_counter() - started:.0f} s)")
    print(f"{'split':<10}{'docs':>6}{'stories':>9}{'gold':>6}   B3 P    R     F1   | 10 runs F1 (diff) | "
          f"dated: 1 run, 10 runs | oracle avg-link F1 (thr)")
    out = {}
    for split, parity in (("tune", 1), ("held-out", 0)):
        part = [d for d in docs if int(d["topic"]) % 2 == parity]
        g = {d["doc_id"]: gold[d["doc_id"]] for d in part}
        one = cluster(part, profiles)
        ten = cluster(part, profiles, runs=10)
        p, r, f = b_cubed(one, g)
        f10 = b_cubed(ten, g)[2]
        with_dates = dated(part, profiles)
        fd1, fd10 = (b_cubed(cluster(part, with_dates, runs=n), g)[2] for n in (1, 10))
        t, _, _, fo = average_link_oracle(part, profiles, g)
        mark = "  [HELD-OUT]" if split == "held-out" else ""
        print(f"{split:<10}{len(part):>6}{len(set(one.values())):>9}{len(set(g.values())):>6}  {p:.3f} {r:.3f} {f:.3f} |"
              f"   {f10:.3f} ({f10 - f:+.3f})    |    {fd1:.3f}  {fd10:.3f}     |   {fo:.3f} ({t:.2f}){mark}")
        out[split] = f
    return out


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"“‘]?[A-Z])")


def _paragraphs(text: str) -> List[str]:
    sentences = _SENTENCE.split(text)
    return [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]


def variants(story: Dict[str, Any], rng: random.Random) -> List[Tuple[str, str]]:
    """(kind, text) of five republished copies of a VOA story."""
    paras = _paragraphs(story["text"])
    shuffled = paras[:]
    rng.shuffle(shuffled)
    keep = [p for i, p in enumerate(paras) if i == 0 or rng.random() >= 1 / 3]
    return [
        ("trimmed", "\n\n".join(paras[:-1] if len(paras) > 2 else paras)),
        ("re-headlined", f"BREAKING: {story['title'].upper()}\n\n" + "\n\n".join(paras)
         + "\n\nRelated: Read more stories from our partners."),
        ("reordered", "\n\n".join(shuffled)),
        ("dropped", "\n\n".join(keep)),
        ("boilerplate", "Share this article. Subscribe to our newsletter for the latest news.\n\n" + "\n\n".join(paras)
         + "\n\nCopyright 2025. All rights reserved. Follow us on social media."),
    ]


def copies_report() -> Dict[str, float]:
    from transforms.stories.copies import copies_in

    stories = [json.loads(line) for line in VOA.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(15)
    stream: List[Tuple[str, str]] = [(f"o{s['id']}", s["text"]) for s in stories]
    truth: Dict[str, str] = {}
    kinds: Dict[str, str] = {}
    for s in stories:
        for kind, text in variants(s, rng):
            key = f"c{s['id']}-{kind}"
            stream.append((key, text))
            truth[key], kinds[key] = f"o{s['id']}", kind
    started = time.perf_counter()
    found = copies_in(stream)
    seconds = time.perf_counter() - started
    per_kind: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for key, original in truth.items():
        per_kind[kinds[key]]["total"] += 1
        per_kind[kinds[key]]["found"] += found[key] == original
    false_links = sum(1 for key, original in found.items()
                      if original is not None and (key.startswith("o") or truth.get(key) != original))
    recall = sum(c["found"] for c in per_kind.values()) / len(truth)
    linked = sum(1 for v in found.values() if v is not None)
    precision = (linked - false_links) / linked if linked else 0.0
    print(f"\ncopies: {len(stories)} VOA stories + {len(truth)} copies ({seconds:.1f} s): recall {recall:.3f}, "
          f"precision {precision:.3f}, false links between distinct stories {false_links}")
    print("  " + ", ".join(f"{k} {c['found']}/{c['total']}" for k, c in sorted(per_kind.items())))
    return {"recall": recall, "precision": precision}


INCIDENTS = ROOT / "eval" / "gold" / "incidents" / "incidents.jsonl"


def _incident_half(incident: str) -> str:
    import hashlib

    return "tune" if int(hashlib.sha1(incident.encode()).hexdigest(), 16) % 2 else "held-out"


def planted_copies(articles: Sequence[Dict[str, Any]], rng: random.Random) -> List[Dict[str, Any]]:
    """Syndicated copies of a fifth of the articles: another outlet and URL, a new headline, the last
    paragraph trimmed or a "Related:" line added, published 1-8 hours later."""
    import datetime as _dt

    out = []
    for a in articles:
        if rng.random() >= 0.2:
            continue
        paras = a["text"].split("\n\n")
        text = "\n\n".join(paras[:-1]) if len(paras) > 3 and rng.random() < 0.5 else a["text"]
        if rng.random() < 0.5:
            text += "\n\nRelated: More local news from our partners."
        when = _dt.datetime.fromisoformat(a["published"].replace("Z", "+00:00")) + _dt.timedelta(hours=rng.randint(1, 8))
        out.append(dict(a, id=f"{a['id']}-copy", source=f"Syndicated via {a['source']}", url=f"{a['url']}?syndicated=1",
                        title=f"{a['title']} | Regional", text=text, published=when.isoformat(), copy_of=a["id"]))
    return out


def incidents_report(halves: Sequence[str] = ("tune", "held-out"), cache: Optional[str] = None) -> Dict[str, float]:
    """Many shootings in one country, told apart only by place, date and names (``eval/gold/incidents``),
    with planted syndicated copies: B3 per half (incidents split by a hash of their label) and copies found."""
    import eval_events as ev

    from transforms.normalise.articles import build_article
    from transforms.records import RawArticle
    from transforms.stories.assign import StoryClusterer
    from transforms.stories.profile import article_profile

    if not INCIDENTS.exists():
        print(f"\nincidents: {INCIDENTS} not present")
        return {}
    import os
    import pickle

    articles = [json.loads(line) for line in INCIDENTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    copies = planted_copies(articles, random.Random(15))
    items = articles + copies
    profiles: Dict[str, Any] = {}
    if cache and os.path.exists(cache):
        profiles = pickle.loads(Path(cache).read_bytes())
        items = []
    pipe = ev.Pipeline() if items else None
    for start in range(0, len(items), 16):
        rows = []
        for a in items[start:start + 16]:
            row = build_article(RawArticle(a["id"], 0, "json", a["text"], title=a["title"], url=a["url"],
                                           source=a["source"], published=(a["published"],)),
                                run_id="incidents", ingested_at=ev._NOW)
            if isinstance(row, dict):
                rows.append((a, row))
        entities, events = pipe.analyse([r for _, r in rows])
        for (a, row), ents, evs in zip(rows, entities, events):
            profiles[a["id"]] = article_profile(row, ents, evs)
    if cache and not os.path.exists(cache):
        Path(cache).write_bytes(pickle.dumps(profiles))
    incident = {a["id"]: a["incident"] for a in articles}
    incident.update({c["id"]: incident[c["copy_of"]] for c in copies})
    print(f"\nincidents: {len(articles)} articles about {len(set(incident.values()))} shootings, "
          f"{len(copies)} planted copies")
    out = {}
    for half in halves:
        ids = [i for i in profiles if _incident_half(incident[i]) == half]
        by_article = {profiles[i].article_id: i for i in ids}
        clusterer = StoryClusterer()
        assigned = clusterer.add_all(profiles[i] for i in ids)
        pred = {by_article[a.article_id]: a.story_id for a in assigned}
        found = {by_article[a.article_id]: by_article.get(a.near_duplicate_of) for a in assigned if a.near_duplicate_of}
        p, r, f = b_cubed(pred, {i: incident[i] for i in ids})
        truth = {c["id"]: c["copy_of"] for c in copies if c["id"] in pred}
        recall = sum(1 for k, v in truth.items() if found.get(k) == v) / max(1, len(truth))
        precision = sum(1 for k, v in found.items() if truth.get(k) == v) / max(1, len(found))
        mark = "  [HELD-OUT]" if half == "held-out" else ""
        print(f"  {half:<9} {len(ids):>4} articles, {len(set(incident[i] for i in ids)):>3} incidents, "
              f"{len(set(pred.values())):>3} stories: B3 P {p:.3f} R {r:.3f} F1 {f:.3f}; copies recall {recall:.3f} "
              f"precision {precision:.3f}{mark}")
        out[half] = f
    return out


def main(argv=None) -> int:
    import os

    s = ecb_report()
    c = copies_report()
    i = incidents_report(cache=os.environ.get("NEWSBEAM_EVAL_CACHE_INCIDENTS"))
    print(f"\nstories     ECB+ B3 F1 tune {s['tune']:.3f} | held-out {s['held-out']:.3f} (target >= 0.90)  [HELD-OUT]; "
          f"copies recall {c['recall']:.3f} precision {c['precision']:.3f}")
    if i:
        print(f"incidents   B3 F1 tune {i['tune']:.3f} | held-out {i['held-out']:.3f} (target >= 0.95)  [HELD-OUT]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
