"""Event extraction quality: PLOVER events from newsbeam's pipeline against three kinds of gold.

Run from the repository root::

    .venv/bin/python eval/eval_events.py [--model NAME] [--errors N]

Every text goes through the real pipeline: an ``articles`` row (``build_article``; for the seed
``read_input`` first) -> ``load_nlp(resolve_model_name(None), keep=ENTITY_PIPES)`` -> doc ->
:func:`extract_entities` -> :func:`transforms.nlp.events.parse.event_rows_batch`. The model is loaded once.
Two system variants are shown side by side: ``all rows`` (every events row) and ``asserted``
(rows with ``negated``, ``hypothetical`` and ``future`` all false).

1. ``wikievents``: ``../shared/corpora/wikievents-dev/dev.jsonl`` (KAIROS types, mapped to PLOVER
   by :data:`KAIROS_TO_PLOVER`; unmapped gold types are not scored). Trigger-level matching: a
   system event matches a gold event when the PLOVER types are equal and the system trigger
   overlaps the gold trigger's character span (one-to-one, greedy). Gold offsets are rebuilt from
   the tokens as in ``eval_entities.py`` and carried through ``build_article``'s normalisation by
   a character alignment. Documents are split by a hash of their id into ``tune`` and
   ``held-out`` (the same hash as ``eval_entities.py``); held-out rows are marked ``[HELD-OUT]``.
   Loose argument scores (actor / recipient text overlapping a gold argument of the matched event
   with an agent-like / patient-like role) and place accuracy (gold ``Place`` argument) follow.
2. ``plover``: ``../shared/corpora/plover/PLOVER_GSR_CAMEO.txt`` (322 one-sentence records coded in
   PLOVER 0.5b1, remapped by :data:`PLOVER_REMAP`). Sentence-level type classification: recall =
   gold type among the system's event types for the record; precision over the distinct system
   types per record (a record codes one event, so other real events count as false positives).
   Split tune / held-out by a hash of the record id.
3. ``seed``: ``eval/gold/seed_events.json`` (hand-written; the extractor was developed while looking
   at this article: NOT held out). Per-type P/R/F1 with the WikiEvents matching rule, then date
   accuracy and place accuracy (equal name, or the system point within 25 km of the gold place's
   geocoded point) over matched events.

Error lists (top false positives / negatives with their sentences) are printed for the tune
splits and the seed only: the held-out parts stay unread while rules are tuned.
"""
from __future__ import annotations

import argparse
import collections
import datetime as _dt
import difflib
import hashlib
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transforms.inputs.readers import read_input  # noqa: E402
from transforms.nlp.entities import extract_entities  # noqa: E402
from transforms.nlp.events.lexicon import EVENT_TYPES  # noqa: E402
from transforms.nlp.model import ENTITY_PIPES, load_nlp, resolve_model_name
from transforms.nlp.places.geocode import distance_km, geocode  # noqa: E402
from transforms.normalise.articles import build_article  # noqa: E402
from transforms.records import RawArticle  # noqa: E402

SHARED = ROOT.parent / "shared" if (ROOT.parent / "shared").exists() else Path("/work/shared")
SEED_GOLD = ROOT / "eval" / "gold" / "seed_events.json"
WIKIEVENTS = SHARED / "corpora" / "wikievents-dev" / "dev.jsonl"
WIKIEVENTS_COREF = SHARED / "corpora" / "wikievents-dev" / "coref-dev.jsonlines"
PLOVER_GSR = SHARED / "corpora" / "plover" / "PLOVER_GSR_CAMEO.txt"

# ------------------------------------------------------------------------------- type mappings

# KAIROS event type (WikiEvents) -> (PLOVER type, mode). Lookup is by the longest matching prefix
# of the dotted type, so "Conflict.Attack" covers every Conflict.Attack.* subtype. A value of None
# means "no PLOVER counterpart": gold events of that type are not scored (a system event on such a
# trigger still counts as a false positive, and is listed as such).
KAIROS_TO_PLOVER: Dict[str, Optional[Tuple[str, Optional[str]]]] = {
    # Physical violence.
    "Conflict.Attack": ("ASSAULT", None),
    "Conflict.Attack.DetonateExplode": ("ASSAULT", "explosives"),
    # Deaths and injuries are ASSAULT only when an attack caused them (see attack_caused()); they
    # are reported on their own row, ASSAULT(Life), so the Conflict.Attack row stays comparable.
    # Deaths from illness, accidents-without-attack context or suicide are not scored.
    "Life.Die": ("ASSAULT", None),
    "Life.Injure": ("ASSAULT", None),
    # Protest; a violent demonstration is a riot.
    "Conflict.Demonstrate": ("PROTEST", "demo"),
    "Conflict.Demonstrate.DemonstrateWithViolence": ("PROTEST", "riot"),
    # Coercion by the state.
    "Justice.ArrestJailDetain": ("COERCE", "arrest"),
    # Meetings are CONSULT; "Contact.Meet" is the older KAIROS spelling.
    "Contact.Contact.Meet": ("CONSULT", None),  # PLOVER has no "meet" mode of CONSULT
    "Contact.Meet": ("CONSULT", None),
    # Threats and demands, whatever the channel (Broadcast / Meet / Unspecified subtypes).
    "Contact.ThreatenCoerce": ("THREATEN", None),
    "Contact.RequestCommand": ("REQUEST", None),
    # The legal process: charges and trials are accusations, investigations ACCUSE-investigate,
    # convictions and sentences SANCTION-convict, releases RETREAT-release.
    "Justice.ChargeIndict": ("ACCUSE", "allege"),
    "Justice.TrialHearing": ("ACCUSE", "allege"),
    "Justice.InvestigateCrime": ("ACCUSE", "investigate"),
    "Justice.Convict": ("SANCTION", "convict"),
    "Justice.Sentence": ("SANCTION", "convict"),
    "Justice.ReleaseParole": ("RETREAT", "release"),
    # Donations of goods or money are AID.
    "Transaction.Donation": ("AID", None),
    # No PLOVER counterpart (or too ambiguous to score):
    "Movement.Transportation.Evacuation": None,  # evacuating civilians is not a PLOVER event
    "Movement.Transportation": None,  # travel/transport; MOBILIZE only for troops, not marked
    "Contact.Contact.Broadcast": None,  # statements: reported speech is never coded by itself
    "Contact.Contact.Correspondence": None,  # letters/calls: the content is what PLOVER codes
    "Contact.Contact.Unspecified": None,
    "ArtifactExistence": None,  # incidental damage is not ASSAULT-destroy (PLOVER manual)
    "Control.ImpedeInterfereWith": None,  # obstruction by anyone: PROTEST-obstruct or COERCE
    "Personnel.EndPosition": None,  # firing vs resigning (RETREAT-resign) not distinguished
    "Transaction.ExchangeBuySell": None,
    "GenericCrime": None,
    "Disaster": None,
    "Medical": None,
    "Cognitive": None,
}
LIFE_PREFIXES = ("Life.Die", "Life.Injure")
LIFE_ROW = "ASSAULT(Life)"  # the row on which attack-caused Life.Die / Life.Injure are reported

# WikiEvents argument roles: who acts (actor) and who is acted on (recipient).
ACTOR_ROLES = {"Attacker", "Agent", "Jailer", "Killer", "Injurer", "Demonstrator", "Communicator", "Participant",
               "Investigator", "Prosecutor", "JudgeCourt", "Transporter", "Giver", "Perpetrator", "Impeder"}
RECIPIENT_ROLES = {"Target", "Victim", "Detainee", "Defendant", "Recipient", "Participant", "Regulator",
                   "Patient", "Employee", "Observee"}
PLACE_ROLES = {"Place"}

# PLOVER 0.5b1 labels in the gold standard records -> the 16 current types. DOCUMENT is skipped.
PLOVER_REMAP = {"FIGHT": "ASSAULT", "DEMAND": "REQUEST", "DISAPPROVE": "ACCUSE", "INVESTIGATE": "ACCUSE"}
PLOVER_SKIP = {"DOCUMENT"}

SEED_PLACE_KM = 25.0
WIKIEVENTS_PLACE_KM = 50.0


def kairos_to_plover(kairos_type: str) -> Optional[Tuple[str, Optional[str]]]:
    """The (PLOVER type, mode) of a KAIROS type by the longest matching dotted prefix, or None."""
    parts = kairos_type.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in KAIROS_TO_PLOVER:
            return KAIROS_TO_PLOVER[key]
    return None


def plover_label(label: str) -> Optional[str]:
    """A PLOVER 0.5b1 gold label as one of the 16 current types (None for DOCUMENT)."""
    if label in PLOVER_SKIP:
        return None
    label = PLOVER_REMAP.get(label, label)
    return label if label in EVENT_TYPES else None


def split_of(doc_id: str) -> str:
    """tune / held-out by a hash of the id (the same split as eval/eval_entities.py)."""
    return "held-out" if int(hashlib.sha1(doc_id.encode()).hexdigest(), 16) % 2 else "tune"


# ------------------------------------------------------------------------------------- scoring

class Scores:
    """Per-label true positives, false positives and false negatives."""

    def __init__(self) -> None:
        self.tp: Dict[str, int] = collections.Counter()
        self.fp: Dict[str, int] = collections.Counter()
        self.fn: Dict[str, int] = collections.Counter()

    def labels(self) -> List[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))

    def prf(self, label: Optional[str] = None) -> Tuple[float, float, float, int]:
        """(precision, recall, F1, gold count) of one label, or micro-averaged over all."""
        keys = [label] if label else self.labels()
        tp = sum(self.tp[k] for k in keys)
        fp = sum(self.fp[k] for k in keys)
        fn = sum(self.fn[k] for k in keys)
        return prf(tp, fp, fn) + (tp + fn,)


def prf(tp: int, fp: int, fn: int) -> Tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def match_events(gold: Sequence[Dict[str, Any]], system: Sequence[Dict[str, Any]]):
    """One-to-one trigger matching. ``gold`` items have ``start``, ``end``, ``type`` (PLOVER) and
    optionally ``priority`` (lower wins when a system trigger overlaps several gold triggers of its
    type; Conflict.Attack before attack-caused Life.*); ``system`` items are events rows. Returns
    (pairs [(gold, system)], unmatched gold, unmatched system)."""
    used = set()
    pairs, extra = [], []
    for ev in sorted(system, key=lambda e: (e["trigger_start"], e["trigger_end"])):
        best = None
        for k, g in enumerate(gold):
            if k in used or g["type"] != ev["event_type"]:
                continue
            if not overlaps(ev["trigger_start"], ev["trigger_end"], g["start"], g["end"]):
                continue
            rank = (g.get("priority", 0), abs(g["start"] - ev["trigger_start"]))
            if best is None or rank < best[0]:
                best = (rank, k)
        if best is None:
            extra.append(ev)
        else:
            used.add(best[1])
            pairs.append((gold[best[1]], ev))
    missed = [g for k, g in enumerate(gold) if k not in used]
    return pairs, missed, extra


def add_matches(scores: Scores, pairs, missed, extra, label_of: Callable[[Dict[str, Any]], str] = None) -> None:
    """Count a match_events result: matched pairs and missed gold under the gold's row label
    (``label_of(gold)``, default its type), unmatched system events under their type."""
    label_of = label_of or (lambda g: g["type"])
    for g, _ in pairs:
        scores.tp[label_of(g)] += 1
    for g in missed:
        scores.fn[label_of(g)] += 1
    for ev in extra:
        scores.fp[ev["event_type"]] += 1


def add_sentence(scores: Scores, gold_type: str, system_types: Iterable[str]) -> None:
    """Sentence-level classification of one record coded with one event type."""
    system_types = set(system_types)
    if gold_type in system_types:
        scores.tp[gold_type] += 1
    else:
        scores.fn[gold_type] += 1
    for t in system_types - {gold_type}:
        scores.fp[t] += 1


def asserted(ev: Dict[str, Any]) -> bool:
    return not (ev.get("negated") or ev.get("hypothetical") or ev.get("future"))


_STOP = set("the a an of his her their its and in on at to for from by with s".split())


def _words(text: Optional[str]) -> set:
    return {w for w in re.findall(r"[a-z0-9]+", (text or "").lower()) if w not in _STOP}


def text_overlap(system_text: Optional[str], gold_text: Optional[str]) -> bool:
    """Loose argument match: one string contains the other, or they share a content word."""
    if not system_text or not gold_text:
        return False
    a, b = system_text.lower(), gold_text.lower()
    return a in b or b in a or bool(_words(a) & _words(b))


def system_point(ev: Dict[str, Any]) -> Optional[Tuple[float, float]]:
    if ev.get("latitude") is not None and ev.get("longitude") is not None:
        return ev["latitude"], ev["longitude"]
    g = geocode(ev["location"]) if ev.get("location") else None
    return (g.latitude, g.longitude) if g else None


km = distance_km  # great-circle kilometres (transforms.nlp.places.geocode)


def place_matches(ev: Dict[str, Any], names: Sequence[str], max_km: float, contain: bool = False) -> bool:
    """The system location equals one of ``names`` (or contains / is contained in it when
    ``contain``), or the system point lies within ``max_km`` of the first geocodable name."""
    loc = (ev.get("location") or "").strip().lower()
    if loc:
        for n in names:
            n = n.strip().lower()
            if loc == n or (contain and n and (loc in n or n in loc)):
                return True
    point = system_point(ev)
    if point is None:
        return False
    for n in names:
        g = geocode(n)
        if g is not None:
            return km(point[0], point[1], g.latitude, g.longitude) <= max_km
    return False


def print_table(title: str, systems: Dict[str, Scores], held_out: Optional[bool], extra_rows: Sequence[str] = ()) -> None:
    mark = "  [HELD-OUT]" if held_out else ("  [tuned on: not held out]" if held_out is False else "")
    print(f"\n== {title}{mark}")
    names = list(systems)
    print(f"{'label':<14}{'gold':>6}  " + "  ".join(f"{n:>20}" for n in names))
    print(f"{'':<14}{'':>6}  " + "  ".join(f"{'P     R     F1':>20}" for _ in names))
    labels = sorted(set().union(*(s.labels() for s in systems.values())) | set(extra_rows))
    for label in labels + [None]:
        row = f"{label or 'ALL (micro)':<14}{systems[names[0]].prf(label)[3]:>6}  "
        row += "  ".join("{:>20}".format("{:.2f}  {:.2f}  {:.2f}".format(*systems[n].prf(label)[:3])) for n in names)
        print(row + (mark if held_out and label is None else ""))


def ratio(hits: int, total: int) -> str:
    return f"{hits}/{total} = {hits / total:.2f}" if total else "0/0 = n/a"


# ----------------------------------------------------------------------------- the pipeline

class Pipeline:
    """Entity pass + event stage of newsbeam, models loaded once."""

    def __init__(self, model_name: Optional[str] = None) -> None:
        self.model = resolve_model_name(model_name)
        started = time.perf_counter()
        self.nlp = load_nlp(self.model, keep=ENTITY_PIPES)  # the event stage runs its other components
        self.load_seconds = time.perf_counter() - started

    def events(self, rows: Sequence[Dict[str, Any]]) -> List[List[Dict[str, Any]]]:
        return self.analyse(rows)[1]

    def analyse(self, rows: Sequence[Dict[str, Any]]) -> Tuple[List[List[Dict[str, Any]]], List[List[Dict[str, Any]]]]:
        """Entity rows and event rows of each article row."""
        from transforms.nlp.events.parse import event_rows_batch

        docs = list(self.nlp.pipe([r["text"] for r in rows], batch_size=32))
        entity_lists = []
        for row, doc in zip(rows, docs):
            entities = extract_entities(doc, row["article_id"])
            for e in entities:
                e.setdefault("run_id", row["run_id"])
                e.setdefault("dt", row["dt"])
            entity_lists.append(entities)
        return entity_lists, event_rows_batch(self.nlp, docs, rows, entity_lists)


_NOW = _dt.datetime.now(_dt.timezone.utc)


def article_row(text: str, input_path: str, index: int) -> Dict[str, Any]:
    """An ``articles`` row built by the project's normaliser from a plain-text record."""
    row = build_article(RawArticle(input_path, index, "text", text), run_id="eval", ingested_at=_NOW)
    if not isinstance(row, dict):
        raise ValueError(f"{input_path}#{index}: {row}")
    return row


def offset_map(old: str, new: str) -> List[int]:
    """For every character position of ``old`` (and its end), the position in ``new`` after a
    normalisation that only changes whitespace and punctuation here and there."""
    mapping = [0] * (len(old) + 1)
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        for i in range(i1, i2 + 1 if i2 == len(old) else i2):
            if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
                mapping[i] = j1 + (i - i1)
            else:
                mapping[i] = j1 if i == i1 else j2
    mapping[len(old)] = len(new)
    return mapping


def sentence_at(text: str, start: int) -> str:
    """The sentence-ish stretch of ``text`` around ``start`` (for error lists)."""
    left = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start))
    right_candidates = [i for i in (text.find(". ", start), text.find("\n", start)) if i >= 0]
    right = min(right_candidates) + 1 if right_candidates else len(text)
    return " ".join(text[left + 1:right].split())[:240]


# ---------------------------------------------------------------------------------- wikievents

def attack_caused(event: Dict[str, Any], attack_sentences: Sequence[int]) -> bool:
    """A Life.Die / Life.Injure event counts as ASSAULT when a Killer / Injurer is annotated or a
    Conflict.Attack trigger is in the same sentence or within two sentences of it."""
    if any(a["role"] in ("Killer", "Injurer") for a in event["arguments"]):
        return True
    s = event["trigger"]["sent_idx"]
    return any(abs(s - a) <= 2 for a in attack_sentences)


def wikievents_docs() -> List[Dict[str, Any]]:
    """WikiEvents dev documents as article rows with gold events (character spans in the row's text).

    The corpus's ``text`` glues sentences together, but its token offsets count a separator between
    them, so the text is rebuilt by placing each sentence at its first token's offset (as in
    eval_entities.py); offsets are then carried into ``build_article``'s normalised text."""
    clusters: Dict[str, List[List[str]]] = {}
    if WIKIEVENTS_COREF.exists():
        for line in WIKIEVENTS_COREF.read_text(encoding="utf-8").splitlines():
            c = json.loads(line)
            clusters[c["doc_key"]] = c["clusters"]
    docs = []
    for index, line in enumerate(WIKIEVENTS.read_text(encoding="utf-8").splitlines()):
        d = json.loads(line)
        parts, pos = [], 0
        for sent_tokens, sent_text in d["sentences"]:
            start = sent_tokens[0][1]
            parts.append(" " * (start - pos) + sent_text)
            pos = start + len(sent_text)
        raw_text = "".join(parts)
        tokens = [t for sent in d["sentences"] for t in sent[0]]
        assert all(raw_text[t[1]:t[2]] == t[0] for t in tokens), d["doc_id"]
        row = article_row(raw_text, str(WIKIEVENTS), index)
        text = row["text"]
        m = offset_map(raw_text, text)
        mentions = {e["id"]: (m[tokens[e["start"]][1]], m[tokens[e["end"] - 1][2]]) for e in d["entity_mentions"]}
        # Coreferent names of each mention ("the city" -> "Belfast"), for the place comparison.
        corefs: Dict[str, List[str]] = {}
        for cluster in clusters.get(d["doc_id"], []):
            names = [text[mentions[i][0]:mentions[i][1]] for i in cluster if i in mentions]
            for i in cluster:
                corefs[i] = names
        attack_sentences = [e["trigger"]["sent_idx"] for e in d["event_mentions"]
                            if e["event_type"].startswith("Conflict.Attack")]
        gold, ignored = [], []
        for e in d["event_mentions"]:
            start, end = m[tokens[e["trigger"]["start"]][1]], m[tokens[e["trigger"]["end"] - 1][2]]
            args = []
            for a in e["arguments"]:
                span = mentions.get(a["entity_id"])
                own = text[span[0]:span[1]] if span else a["text"]
                args.append({"role": a["role"], "text": own,
                             "coref": [own] + [n for n in corefs.get(a["entity_id"], []) if n != own]})
            item = {"start": start, "end": end, "kairos": e["event_type"], "trigger": text[start:end],
                    "args": args, "sentence": sentence_at(text, start)}
            mapped = kairos_to_plover(e["event_type"])
            is_life = e["event_type"].startswith(LIFE_PREFIXES)
            if mapped is None or (is_life and not attack_caused(e, attack_sentences)):
                ignored.append(item)
                continue
            item.update(type=mapped[0], mode=mapped[1], row=LIFE_ROW if is_life else mapped[0],
                        priority=1 if is_life else 0)
            gold.append(item)
        # One gold event per (span, PLOVER type): "bombing" annotated as Attack and Die is one ASSAULT.
        unique: Dict[Tuple[int, int, str], Dict[str, Any]] = {}
        for g in sorted(gold, key=lambda g: g["priority"]):
            unique.setdefault((g["start"], g["end"], g["type"]), g)
        docs.append({"doc_id": d["doc_id"], "row": row, "gold": list(unique.values()), "ignored": ignored,
                     "n_gold_raw": len(d["event_mentions"])})
    return docs


def _argument_scores(pairs, counts: collections.Counter, variant: str) -> None:
    for g, ev in pairs:
        for slot, roles in (("actor", ACTOR_ROLES), ("recipient", RECIPIENT_ROLES)):
            gold_texts = [a["text"] for a in g["args"] if a["role"] in roles]
            if gold_texts:
                counts[(variant, slot, "gold")] += 1
            if ev.get(slot):
                counts[(variant, slot, "system")] += 1
                if any(text_overlap(ev[slot], t) or text_overlap(ev.get(f"{slot}_canonical"), t) for t in gold_texts):
                    counts[(variant, slot, "correct")] += 1


def _place_scores(pairs, counts: collections.Counter, variant: str) -> None:
    for g, ev in pairs:
        places = [a for a in g["args"] if a["role"] in PLACE_ROLES]
        if not places:
            continue
        counts[(variant, "place", "gold")] += 1
        if ev.get("location"):
            counts[(variant, "place", "system")] += 1
        own = [a["text"] for a in places]
        names = own + [n for a in places for n in a["coref"] if n not in own]
        if place_matches(ev, own, WIKIEVENTS_PLACE_KM, contain=True):
            counts[(variant, "place", "correct")] += 1
        if place_matches(ev, names, WIKIEVENTS_PLACE_KM, contain=True):
            counts[(variant, "place", "correct+coref")] += 1
        if any(geocode(n) for n in names):
            counts[(variant, "place", "geocodable")] += 1
            if place_matches(ev, names, WIKIEVENTS_PLACE_KM, contain=True):
                counts[(variant, "place", "geocodable correct")] += 1
        if ev.get("event_date") is not None:
            counts[(variant, "date", "system")] += 1


def eval_wikievents(pipe: Pipeline, n_errors: int) -> Dict[str, Any]:
    docs = wikievents_docs()
    system = pipe.events([d["row"] for d in docs])
    variants = ("all rows", "asserted")
    scores = {s: {v: Scores() for v in variants} for s in ("tune", "held-out")}
    args = {s: collections.Counter() for s in ("tune", "held-out")}
    n_docs, n_gold, n_ignored = collections.Counter(), collections.Counter(), collections.Counter()
    fp_examples, fn_examples = [], []
    kinds = collections.Counter()
    for d, events in zip(docs, system):
        split = split_of(d["doc_id"])
        n_docs[split] += 1
        n_gold[split] += len(d["gold"])
        n_ignored[split] += len(d["ignored"])
        for g in d["gold"]:
            kinds[(split, g["row"])] += 1
        for variant in variants:
            chosen = events if variant == "all rows" else [e for e in events if asserted(e)]
            pairs, missed, extra = match_events(d["gold"], chosen)
            add_matches(scores[split][variant], pairs, missed, extra, label_of=lambda g: g["row"])
            _argument_scores(pairs, args[split], variant)
            _place_scores(pairs, args[split], variant)
            if variant == "all rows" and split == "tune":
                for g in missed:
                    fn_examples.append((g["row"], g["trigger"], g["kairos"], g["sentence"]))
                for ev in extra:
                    on = [i["kairos"] for i in d["ignored"] + d["gold"]
                          if overlaps(ev["trigger_start"], ev["trigger_end"], i["start"], i["end"])]
                    fp_examples.append((ev["event_type"], ev["trigger"], ",".join(on) or "no gold trigger",
                                        " ".join(ev["sentence"].split())[:240]))
    print(f"\nKAIROS -> PLOVER map: {len([k for k, v in KAIROS_TO_PLOVER.items() if v])} mapped prefixes; "
          f"attack-caused Life.Die/Injure scored on row {LIFE_ROW}; other Life.* and unmapped types not scored.")
    for split in ("tune", "held-out"):
        print_table(f"WikiEvents dev, {split} split ({n_docs[split]} documents, {n_gold[split]} scored gold events, "
                    f"{n_ignored[split]} unmapped/unscored; trigger overlap + type)", scores[split],
                    split == "held-out", extra_rows=[LIFE_ROW])
        c = args[split]
        mark = "  [HELD-OUT]" if split == "held-out" else ""
        for variant in variants:
            parts = []
            for slot in ("actor", "recipient"):
                p, r, f = prf(c[(variant, slot, "correct")], c[(variant, slot, "system")] - c[(variant, slot, "correct")],
                              c[(variant, slot, "gold")] - c[(variant, slot, "correct")])
                parts.append(f"{slot} P {p:.2f} R {r:.2f} F1 {f:.2f} (gold {c[(variant, slot, 'gold')]}, "
                             f"system {c[(variant, slot, 'system')]}, overlap {c[(variant, slot, 'correct')]})")
            print(f"  loose arguments on matched events, {variant:>8}: " + "; ".join(parts) + mark)
        for variant in variants:
            print(f"  place on matched events with a gold Place argument, {variant:>8}: "
                  f"{ratio(c[(variant, 'place', 'correct')], c[(variant, 'place', 'gold')])} correct "
                  f"(name containment or < {WIKIEVENTS_PLACE_KM:.0f} km; location given for "
                  f"{c[(variant, 'place', 'system')]}); with coreferent names of the gold place "
                  f"{ratio(c[(variant, 'place', 'correct+coref')], c[(variant, 'place', 'gold')])}; where a gold "
                  f"name geocodes {ratio(c[(variant, 'place', 'geocodable correct')], c[(variant, 'place', 'geocodable')])}"
                  f"{mark}")
            print(f"  date, {variant:>8}: no gold (dev has no Time arguments and no publication dates); the system "
                  f"gave a date for {c[(variant, 'date', 'system')]} of the {c[(variant, 'place', 'gold')]}{mark}")
    _print_errors("WikiEvents tune split", fn_examples, fp_examples, n_errors)
    t = scores["tune"]["all rows"].prf()
    h = scores["held-out"]["all rows"].prf()
    ha = scores["held-out"]["asserted"].prf()
    return {"tune": t, "held-out": h, "held-out asserted": ha,
            "place": (args["held-out"][("all rows", "place", "correct+coref")],
                      args["held-out"][("all rows", "place", "gold")])}


def _print_errors(title: str, fn_examples, fp_examples, n: int) -> None:
    if n <= 0:
        return
    for kind, examples in (("false negatives (gold row, trigger, gold type)", fn_examples),
                           ("false positives (system type, trigger, gold trigger types there)", fp_examples)):
        if not examples:
            continue
        groups = collections.Counter((e[0], e[1].lower(), e[2]) for e in examples)
        print(f"\n-- {title}: top {kind}")
        for (label, trigger, info), count in groups.most_common(n):
            sentence = next(e[3] for e in examples if (e[0], e[1].lower(), e[2]) == (label, trigger, info))
            print(f"  {count:>3} x {label:<13} {trigger!r:<18} [{info}]  e.g. {sentence}")


# -------------------------------------------------------------------------------------- plover

# CAMEO/PLOVER agent codes (first three letters) -> newsbeam sectors (transforms/nlp/actors/sectors.yaml);
# codes with no newsbeam sector (ELI elites, UAF unidentified armed forces, SOC, ***) are not scored.
PLOVER_SECTORS = {"GOV": "government", "SPY": "government", "MIL": "military", "COP": "police", "JUD": "judiciary",
                  "LEG": "legislature", "PTY": "party", "REB": "rebels", "INS": "rebels", "OPP": "opposition",
                  "LAB": "labour", "BUS": "business", "MED": "media", "JRN": "media", "EDU": "education",
                  "HLH": "health", "REL": "religious", "MOS": "religious", "CHR": "religious", "JEW": "religious",
                  "CVL": "civilians", "CIV": "civilians", "REF": "civilians", "CRM": "criminals", "NGO": "ngo",
                  "IGO": "igo"}
CAMEO_COUNTRIES = {"JAP": "JPN", "IGO": "IGO"}  # CAMEO's own codes where they differ from ISO 3166-1 alpha-3


def _actor_code(actor: Dict[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    """(country, sector) of a gold PLOVER actor: ISO alpha-3 (or IGO) and a newsbeam sector, each None if absent."""
    code = (actor.get("code") or "").upper()[:3] or None
    sector = PLOVER_SECTORS.get((actor.get("sector") or "").upper()[:3])
    if code == "IGO":
        sector = sector or "igo"
    return CAMEO_COUNTRIES.get(code, code) if code and code.isalpha() else None, sector


def _system_code(event: Dict[str, Any], role: str) -> Tuple[Optional[str], Optional[str]]:
    sector = event.get(f"{role}_sector")
    return ("IGO" if sector == "igo" else event.get(f"{role}_country")), sector


def _code_scores(hits, r, counts: collections.Counter) -> None:
    """Actor and recipient coding of a correctly typed event against the record's gold codes."""
    for role, key, texts in (("actor", "source_codes", "sources"), ("recipient", "target_codes", "targets")):
        gold = r[key]
        if not gold:
            continue
        named = [e for e in hits if any(text_overlap(e.get(role), t) or text_overlap(e.get(f"{role}_canonical"), t)
                                        for t in r[texts])]
        e = (named or hits)[0]
        country, sector = _system_code(e, role)
        for field, got, wanted in (("country", country, {g[0] for g in gold if g[0]}),
                                   ("sector", sector, {g[1] for g in gold if g[1]})):
            if wanted:
                counts[(role, field, "gold")] += 1
                counts[(role, field, "filled")] += got is not None
                counts[(role, field, "correct")] += got in wanted


def plover_records() -> List[Dict[str, Any]]:
    records = []
    for index, r in enumerate(json.loads(PLOVER_GSR.read_text(encoding="utf-8"))):
        label = plover_label(r.get("event", ""))
        if label is None or not (r.get("text") or "").strip():
            continue
        sources = r.get("source") if isinstance(r.get("source"), list) else []
        targets = r.get("target") if isinstance(r.get("target"), list) else []
        records.append({"id": r["id"], "type": label, "original": r["event"], "text": r["text"],
                        "sources": [a.get("actorText") for a in sources if a.get("actorText")],
                        "targets": [a.get("actorText") for a in targets if a.get("actorText")],
                        "source_codes": [_actor_code(a) for a in sources if isinstance(a, dict)],
                        "target_codes": [_actor_code(a) for a in targets if isinstance(a, dict)],
                        "row": article_row(r["text"], str(PLOVER_GSR), index)})
    return records


def eval_plover(pipe: Pipeline, n_errors: int) -> Dict[str, Any]:
    records = plover_records()
    system = pipe.events([r["row"] for r in records])
    variants = ("all rows", "asserted")
    scores = {s: {v: Scores() for v in variants} for s in ("tune", "held-out")}
    counts = {s: collections.Counter() for s in ("tune", "held-out")}
    fn_examples, fp_examples = [], []
    for r, events in zip(records, system):
        split = split_of(r["id"])
        counts[split]["records"] += 1
        for variant in variants:
            chosen = events if variant == "all rows" else [e for e in events if asserted(e)]
            add_sentence(scores[split][variant], r["type"], (e["event_type"] for e in chosen))
            hits = [e for e in chosen if e["event_type"] == r["type"]]
            if hits and variant == "all rows":
                _code_scores(hits, r, counts[split])
            if hits and r["sources"]:
                counts[split][(variant, "actor gold")] += 1
                if any(text_overlap(e.get("actor"), s) or text_overlap(e.get("actor_canonical"), s)
                       for e in hits for s in r["sources"]):
                    counts[split][(variant, "actor correct")] += 1
            if variant == "all rows" and split == "tune":
                if not hits:
                    got = ",".join(sorted({f"{e['event_type']}:{e['trigger']}" for e in chosen})) or "nothing"
                    fn_examples.append((r["type"], f"{r['original']}", got, r["text"].strip()[:240]))
                for e in chosen:
                    if e["event_type"] != r["type"]:
                        fp_examples.append((e["event_type"], e["trigger"], f"gold {r['type']}", r["text"].strip()[:240]))
    print(f"\nPLOVER 0.5b1 labels remapped: {PLOVER_REMAP}; skipped: {sorted(PLOVER_SKIP)}")
    for split in ("tune", "held-out"):
        c = counts[split]
        print_table(f"PLOVER gold standard records, {split} split ({c['records']} one-sentence records; "
                    f"sentence-level type)", scores[split], split == "held-out")
        for variant in variants:
            print(f"  actor of a correctly typed event overlaps a gold source actor, {variant:>8}: "
                  f"{ratio(c[(variant, 'actor correct')], c[(variant, 'actor gold')])}"
                  + ("  [HELD-OUT]" if split == "held-out" else ""))
        for role in ("actor", "recipient"):
            for field in ("country", "sector"):
                gold, filled, correct = (c[(role, field, k)] for k in ("gold", "filled", "correct"))
                print(f"  {role}_{field} of correctly typed events (gold has one: {gold}): precision "
                      f"{ratio(correct, filled)}, recall {ratio(correct, gold)}"
                      + ("  [HELD-OUT]" if split == "held-out" else ""))
    if n_errors > 0:
        groups = collections.Counter((e[0], e[1]) for e in fn_examples)
        print("\n-- PLOVER tune split: false negatives by gold type (original label): count, then examples "
              "(what the system produced instead)")
        for (label, original), count in groups.most_common():
            print(f"  {count:>3} x {label} ({original})")
            for e in [e for e in fn_examples if (e[0], e[1]) == (label, original)][:3]:
                print(f"        [{e[2]}] {e[3]}")
        _print_errors("PLOVER tune split", [], fp_examples, n_errors)
    coding = {split: {(role, field): (counts[split][(role, field, "correct")], counts[split][(role, field, "filled")],
                                      counts[split][(role, field, "gold")])
                      for role in ("actor", "recipient") for field in ("country", "sector")}
              for split in ("tune", "held-out")}
    return {"tune": scores["tune"]["all rows"].prf(), "held-out": scores["held-out"]["all rows"].prf(),
            "held-out asserted": scores["held-out"]["asserted"].prf(), "coding": coding}


# ---------------------------------------------------------------------------------------- seed

def load_seed_gold(path: Path = SEED_GOLD) -> Dict[str, Any]:
    gold = json.loads(path.read_text(encoding="utf-8"))
    for e in gold["events"]:
        if e["event_type"] not in EVENT_TYPES:
            raise ValueError(f"{path}: {e['event_type']!r} is not a PLOVER type")
    return gold


def eval_seed(pipe: Pipeline, n_errors: int) -> Dict[str, Any]:
    gold = load_seed_gold()
    raw = next(iter(read_input(gold["source"])))
    row = build_article(raw, run_id="eval", ingested_at=_NOW)
    if row["text"] != gold["text"]:
        raise SystemExit("the seed's article text changed since the gold was written; re-check the gold offsets")
    events = pipe.events([row])[0]
    items = [dict(e, start=e["start_char"], end=e["end_char"], type=e["event_type"]) for e in gold["events"]]
    variants = {"all rows": events, "asserted": [e for e in events if asserted(e)]}
    scores = {v: Scores() for v in variants}
    results = {}
    for variant, chosen in variants.items():
        pairs, missed, extra = match_events(items, chosen)
        add_matches(scores[variant], pairs, missed, extra)
        results[variant] = (pairs, missed, extra)
    print_table(f"seed article (hand-written gold, {len(items)} event mentions, published {gold['published']})",
                scores, False)
    summary = {}
    for variant, (pairs, _missed, _extra) in results.items():
        dated = [(g, e) for g, e in pairs if g["event_date"] is not None]
        date_ok = sum(1 for g, e in pairs if (str(e["event_date"]) if e["event_date"] else None) == g["event_date"])
        dated_ok = sum(1 for g, e in dated if str(e["event_date"]) == g["event_date"])
        placed = [(g, e) for g, e in pairs if g["location"]]
        place_ok = sum(1 for g, e in placed
                       if place_matches(e, [g["location"]] + g.get("location_also", []), SEED_PLACE_KM))
        modes = [(g, e) for g, e in pairs if g["mode"]]
        mode_ok = sum(1 for g, e in modes if e["mode"] == g["mode"])
        actor_ok = sum(1 for g, e in pairs if g["actor"] and text_overlap(e["actor"], g["actor"]))
        recip_ok = sum(1 for g, e in pairs if g["recipient"] and text_overlap(e["recipient"], g["recipient"]))
        print(f"  {variant:>8}: date accuracy on matched events {ratio(date_ok, len(pairs))} (null = null counts; "
              f"gold dated only: {ratio(dated_ok, len(dated))}); place accuracy {ratio(place_ok, len(placed))} "
              f"(equal name or < {SEED_PLACE_KM:.0f} km); mode {ratio(mode_ok, len(modes))}; actor overlap "
              f"{ratio(actor_ok, sum(1 for g, _ in pairs if g['actor']))}; recipient overlap "
              f"{ratio(recip_ok, sum(1 for g, _ in pairs if g['recipient']))}")
        summary[variant] = {"prf": scores[variant].prf(), "date": (date_ok, len(pairs)), "place": (place_ok, len(placed))}
    if n_errors > 0:
        pairs, missed, extra = results["all rows"]
        print("\n-- seed: matched events (gold date / system date; gold place / system place)")
        for g, e in pairs:
            flag = " [flagged]" if not asserted(e) else ""
            print(f"  {g['start']:>5} {g['trigger']!r:<14} {g['type']:<9} date {g['event_date']} / {e['event_date']} "
                  f"({e['date_text']!r}); place {g['location']} / {e['location']}{flag}")
        print("-- seed: false negatives")
        for g in missed:
            print(f"  {g['start']:>5} {g['trigger']!r:<14} {g['type']:<9} {g['reason']}")
        print("-- seed: false positives")
        judged = {(j["start_char"], j["end_char"]): j["reason"] for j in gold.get("judged_not_events", [])}
        for e in extra:
            why = next((r for (s, t), r in judged.items() if overlaps(s, t, e["trigger_start"], e["trigger_end"])), "")
            flags = ",".join(k for k in ("negated", "hypothetical", "future") if e[k]) or "asserted"
            print(f"  {e['trigger_start']:>5} {e['trigger']!r:<14} {e['event_type']:<9} [{flags}] {why}")
    return summary


# ---------------------------------------------------------------------------------------- main

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="spaCy model (default: en_core_web_sm, else its re-upload).")
    parser.add_argument("--errors", type=int, default=12, help="Error examples per list (0: none).")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pipe = Pipeline(args.model)
    print(f"model {pipe.model}: entity pass {pipe.nlp.pipe_names}, loaded with the parse pipeline in "
          f"{pipe.load_seconds:.1f} s")
    seed = eval_seed(pipe, args.errors)
    wiki = eval_wikievents(pipe, args.errors)
    plover = eval_plover(pipe, args.errors)

    def f(t):
        return f"P {t[0]:.2f} R {t[1]:.2f} F1 {t[2]:.2f}"

    print("\n== summary (micro, all rows unless said)")
    print(f"seed        {f(seed['all rows']['prf'])} (asserted: {f(seed['asserted']['prf'])}); date "
          f"{ratio(*seed['all rows']['date'])}; place {ratio(*seed['all rows']['place'])}  [not held out]")
    print(f"wikievents  tune {f(wiki['tune'])} | held-out {f(wiki['held-out'])} (asserted: "
          f"{f(wiki['held-out asserted'])}); held-out place (coref names) {ratio(*wiki['place'])}  [HELD-OUT]")
    print(f"plover      tune {f(plover['tune'])} | held-out {f(plover['held-out'])} (asserted: "
          f"{f(plover['held-out asserted'])})  [HELD-OUT]")

    def coded(split):
        parts = []
        for (role, field), (correct, filled, gold) in plover["coding"][split].items():
            parts.append(f"{role}_{field} P {correct / filled if filled else 0:.2f} R {correct / gold if gold else 0:.2f}")
        return ", ".join(parts)
    print(f"plover coding tune: {coded('tune')}")
    print(f"plover coding held-out: {coded('held-out')}  [HELD-OUT]")
    print(f"total time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
