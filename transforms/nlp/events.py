"""Event extraction in PLOVER: who did what to whom, where and when.

The approach is PETRARCH's, on a modern parser: a trigger lexicon (lemma + part of speech, with
conditions on the trigger's objects and particles) proposes an event type and mode; the
dependency parse gives actor and recipient; negation, modality and embedding give the
negated / hypothetical / future flags; the sentence's (or the discourse's) temporal expression
gives the date, resolved against the publication date; places come from the entities in the
sentence, geocoded offline. Pure functions over spaCy ``Span`` objects: no Beam here.

Reported speech ("said", "told") is never a trigger by itself: only what is reported is coded.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from transforms.nlp.geo import SPECIFICITY, geocode
from transforms.nlp.temporal import find_date_expressions

__all__ = [
    "Rule", "LEXICON", "QUAD_CLASS", "EVENT_TYPES", "candidate_sentence", "extract_events",
    "ArticleContext", "TRIGGER_WORDS",
]

EVENT_TYPES = ("AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST", "ACCUSE",
               "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT")

# PLOVER manual, "Quad categories in PLOVER" table.
QUAD_CLASS = {
    "AGREE": "verbal_cooperation", "CONSULT": "verbal_cooperation", "SUPPORT": "verbal_cooperation",
    "CONCEDE": "verbal_cooperation", "COOPERATE": "material_cooperation", "AID": "material_cooperation",
    "RETREAT": "material_cooperation", "REQUEST": "verbal_conflict", "ACCUSE": "verbal_conflict",
    "REJECT": "verbal_conflict", "SANCTION": "verbal_conflict", "THREATEN": "verbal_conflict",
    "PROTEST": "material_conflict", "MOBILIZE": "material_conflict", "COERCE": "material_conflict",
    "ASSAULT": "material_conflict",
}


@dataclasses.dataclass(frozen=True)
class Rule:
    """One trigger: ``lemma`` with part of speech ``pos`` ("V" verb, "N" noun) codes ``event``
    with ``mode``. ``objects`` (lemmas) restrict it to those direct objects / noun modifiers;
    ``not_objects`` exclude them; ``preps``/``particle`` require a preposition or particle child.
    ``modifier_modes`` refine the mode from a compound/amod child ("air" strike -> aerial)."""
    lemma: str
    pos: str
    event: str
    mode: Optional[str] = None
    objects: Tuple[str, ...] = ()
    not_objects: Tuple[str, ...] = ()
    preps: Tuple[str, ...] = ()
    particle: Optional[str] = None
    modifier_modes: Tuple[Tuple[str, str], ...] = ()
    weight: float = 1.0
    not_subjects: Tuple[str, ...] = ()
    needs_xcomp: bool = False  # "asked X to ...", "warned that ... would", "offered to ..."


_R = Rule
_NOT_PEOPLE = ("statement", "report", "video", "data", "figure", "album", "film", "footage", "image", "photo",
               "detail", "information", "name", "list", "plan", "result", "finding", "record", "version", "update",
               "book", "song", "game", "product", "app", "software", "document", "transcript", "budget", "forecast")
_MEET_NOT = ("demand", "need", "requirement", "deadline", "target", "goal", "expectation", "standard", "criterion",
             "condition", "obligation", "challenge", "threshold", "quota")

LEXICON: Tuple[Rule, ...] = (
    # ASSAULT
    _R("attack", "V", "ASSAULT"), _R("attack", "N", "ASSAULT", modifier_modes=(("suicide", "suicide-attack"),
       ("bomb", "explosives"), ("missile", "heavy-weapons"), ("rocket", "heavy-weapons"), ("drone", "drone"),
       ("air", "aerial"), ("knife", "primitive"), ("gun", "firearms"), ("chemical", "unconventional"))),
    _R("assault", "V", "ASSAULT", "beat"), _R("assault", "N", "ASSAULT", "beat"),
    _R("shoot", "V", "ASSAULT", "firearms", not_objects=("video", "film", "footage", "scene", "movie", "photo")),
    _R("shooting", "N", "ASSAULT", "firearms"), _R("shootout", "N", "ASSAULT", "firearms"),
    _R("gunfire", "N", "ASSAULT", "firearms"),
    _R("fire", "V", "ASSAULT", "firearms", objects=("shot", "round", "bullet", "gun", "weapon", "rifle", "tear", "gas",
       "missile", "rocket", "shell", "mortar", "volley")),
    _R("fire", "V", "ASSAULT", "firearms", preps=("at", "on", "upon", "into")),
    _R("fire", "N", "ASSAULT", "firearms", objects=("open",)),
    _R("gun", "V", "ASSAULT", "firearms", particle="down"),
    _R("stab", "V", "ASSAULT", "primitive"), _R("stabbing", "N", "ASSAULT", "primitive"),
    _R("behead", "V", "ASSAULT", "primitive"),
    _R("beat", "V", "ASSAULT", "beat", not_objects=("team", "side", "rival", "record", "estimate", "expectation",
       "forecast", "odds", "deadline", "champion", "opponent", "club")),
    _R("punch", "V", "ASSAULT", "beat"), _R("kick", "V", "ASSAULT", "beat", not_objects=("ball", "goal", "habit")),
    _R("kill", "V", "ASSAULT", not_objects=("bill", "time", "deal", "proposal", "plan", "idea", "story")),
    _R("killing", "N", "ASSAULT"), _R("murder", "V", "ASSAULT"), _R("murder", "N", "ASSAULT"),
    _R("wound", "V", "ASSAULT"), _R("injure", "V", "ASSAULT", weight=0.7),
    _R("bomb", "V", "ASSAULT", "explosives"), _R("bombing", "N", "ASSAULT", "explosives", modifier_modes=(
       ("suicide", "suicide-attack"), ("car", "explosives"), ("roadside", "explosives"))),
    _R("explosion", "N", "ASSAULT", "explosives", weight=0.7), _R("blast", "N", "ASSAULT", "explosives", weight=0.7),
    _R("explode", "V", "ASSAULT", "explosives", weight=0.7), _R("detonate", "V", "ASSAULT", "explosives"),
    _R("airstrike", "N", "ASSAULT", "aerial"),
    _R("strike", "N", "ASSAULT", "aerial", objects=("air", "drone", "missile", "rocket", "artillery"),
       modifier_modes=(("drone", "drone"), ("missile", "heavy-weapons"), ("rocket", "heavy-weapons"),
                       ("artillery", "heavy-weapons"))),
    _R("strike", "V", "ASSAULT", not_objects=("deal", "agreement", "balance", "chord", "note", "tone", "pose",
       "bargain", "compromise", "accord"), weight=0.7),
    _R("shell", "V", "ASSAULT", "heavy-weapons"), _R("shelling", "N", "ASSAULT", "heavy-weapons"),
    _R("kidnap", "V", "ASSAULT", "abduct"), _R("abduct", "V", "ASSAULT", "abduct"), _R("hijack", "V", "ASSAULT", "abduct"),
    _R("kidnapping", "N", "ASSAULT", "abduct"), _R("abduction", "N", "ASSAULT", "abduct"),
    _R("torture", "V", "ASSAULT", "torture"), _R("torture", "N", "ASSAULT", "torture"),
    _R("rape", "V", "ASSAULT", "sexual"), _R("rape", "N", "ASSAULT", "sexual"),
    _R("assassinate", "V", "ASSAULT", "targeted"), _R("assassination", "N", "ASSAULT", "targeted"),
    _R("execute", "V", "ASSAULT", "targeted", not_objects=("plan", "order", "strategy", "trade", "contract", "program")),
    _R("massacre", "V", "ASSAULT", "targeted"), _R("massacre", "N", "ASSAULT", "targeted"),
    _R("ambush", "V", "ASSAULT"), _R("ambush", "N", "ASSAULT"), _R("clash", "V", "ASSAULT"),
    _R("clash", "N", "ASSAULT"), _R("fighting", "N", "ASSAULT", weight=0.7),
    _R("fight", "V", "ASSAULT", "beat", particle="back"),
    _R("blow", "V", "ASSAULT", "explosives", particle="up", not_objects=("balloon", "tyre", "tire")),
    _R("gunfight", "N", "ASSAULT", "firearms"), _R("firefight", "N", "ASSAULT", "firearms"),
    _R("demolish", "V", "COERCE", "seize", weight=0.7),
    # COERCE
    _R("arrest", "V", "COERCE", "arrest"), _R("arrest", "N", "COERCE", "arrest"),
    _R("detain", "V", "COERCE", "arrest"), _R("detention", "N", "COERCE", "arrest", weight=0.7),
    _R("jail", "V", "COERCE", "arrest"), _R("imprison", "V", "COERCE", "arrest"), _R("handcuff", "V", "COERCE", "arrest"),
    _R("deport", "V", "COERCE", "deport"), _R("deportation", "N", "COERCE", "deport"),
    _R("expel", "V", "COERCE", "deport", not_objects=("diplomat", "ambassador", "envoy")),
    _R("seize", "V", "COERCE", "seize", not_objects=("opportunity", "moment", "initiative", "chance")),
    _R("confiscate", "V", "COERCE", "seize"), _R("raid", "V", "COERCE", "seize"), _R("raid", "N", "COERCE", "seize"),
    _R("ban", "V", "COERCE", "restrict"), _R("censor", "V", "COERCE", "censor"),
    _R("curfew", "N", "COERCE", "curfew", objects=("impose", "declare", "order", "announce", "extend")),
    _R("crackdown", "N", "COERCE"), _R("crack", "V", "COERCE", particle="down"),
    # PROTEST
    _R("protest", "V", "PROTEST", "demo"), _R("protest", "N", "PROTEST", "demo"),
    _R("demonstrate", "V", "PROTEST", "demo", preps=("against", "for", "outside", "in")),
    _R("demonstration", "N", "PROTEST", "demo"),
    _R("rally", "N", "PROTEST", "demo"), _R("rally", "V", "PROTEST", "demo", not_subjects=(
       "stock", "share", "market", "price", "index", "dollar", "euro", "currency", "bond", "oil", "gold", "yen", "team")), _R("march", "V", "PROTEST", "demo", preps=("against", "to", "through", "on")),
    _R("riot", "V", "PROTEST", "riot"), _R("riot", "N", "PROTEST", "riot"),
    _R("strike", "N", "PROTEST", "strike", objects=("general", "national", "nationwide", "worker", "labor", "labour",
       "teacher", "union", "go", "call", "stage", "launch", "begin", "end", "hunger", "rail", "transport", "doctor"),
       modifier_modes=(("hunger", "hunger"),)),
    _R("walkout", "N", "PROTEST", "strike"), _R("boycott", "V", "PROTEST", "boycott"), _R("boycott", "N", "PROTEST", "boycott"),
    _R("blockade", "N", "PROTEST", "obstruct", weight=0.7), _R("picket", "V", "PROTEST", "demo"),
    _R("block", "V", "PROTEST", "obstruct", objects=("road", "street", "highway", "bridge", "access", "entrance",
       "traffic", "railway", "port", "border", "crossing", "motorway")),
    # THREATEN
    _R("threaten", "V", "THREATEN"), _R("threat", "N", "THREATEN", weight=0.6), _R("ultimatum", "N", "THREATEN"),
    _R("warn", "V", "THREATEN", weight=0.7, needs_xcomp=True),
    # REQUEST
    _R("demand", "V", "REQUEST"), _R("urge", "V", "REQUEST"), _R("call", "V", "REQUEST", preps=("for", "on", "upon")),
    _R("appeal", "V", "REQUEST", preps=("for", "to")), _R("request", "V", "REQUEST"), _R("plead", "V", "REQUEST"),
    _R("ask", "V", "REQUEST", weight=0.6, needs_xcomp=True),
    # ACCUSE
    _R("accuse", "V", "ACCUSE", "allege"), _R("accusation", "N", "ACCUSE", "allege"), _R("blame", "V", "ACCUSE", "allege"),
    _R("condemn", "V", "ACCUSE", "disapprove"), _R("condemnation", "N", "ACCUSE", "disapprove"),
    _R("criticize", "V", "ACCUSE", "disapprove"), _R("criticise", "V", "ACCUSE", "disapprove"),
    _R("criticism", "N", "ACCUSE", "disapprove", weight=0.7), _R("denounce", "V", "ACCUSE", "disapprove"),
    _R("slam", "V", "ACCUSE", "disapprove", weight=0.7),
    _R("charge", "V", "ACCUSE", "allege", preps=("with",)), _R("indict", "V", "ACCUSE", "allege"),
    _R("sue", "V", "ACCUSE", "allege"),
    _R("charge", "N", "ACCUSE", "allege", objects=("face", "file", "bring", "press", "plead", "deny", "level",
       "criminal", "murder", "terrorism", "corruption", "fraud")), _R("lawsuit", "N", "ACCUSE", "allege"),
    _R("investigate", "V", "ACCUSE", "investigate"), _R("investigation", "N", "ACCUSE", "investigate", weight=0.7),
    _R("probe", "N", "ACCUSE", "investigate", weight=0.7), _R("probe", "V", "ACCUSE", "investigate"),
    # REJECT
    _R("reject", "V", "REJECT"), _R("refuse", "V", "REJECT"), _R("deny", "V", "REJECT"), _R("veto", "V", "REJECT"),
    _R("rebuff", "V", "REJECT"), _R("renege", "V", "REJECT"), _R("dismiss", "V", "REJECT", objects=("claim", "allegation", "report", "charge",
       "accusation", "criticism", "demand", "call", "proposal", "offer", "idea", "suggestion", "concern", "appeal",
       "request", "plea", "bid")),
    # AGREE
    _R("agree", "V", "AGREE"), _R("pledge", "V", "AGREE"), _R("promise", "V", "AGREE", weight=0.7),
    _R("vow", "V", "AGREE", weight=0.7), _R("offer", "V", "AGREE", weight=0.7, needs_xcomp=True),
    _R("sign", "V", "AGREE", objects=("deal", "agreement", "accord", "treaty", "pact", "memorandum", "declaration",
       "ceasefire", "truce", "contract")),
    _R("agreement", "N", "AGREE", objects=("reach", "sign", "strike", "seal", "conclude"), weight=0.8),
    # CONSULT
    _R("meet", "V", "CONSULT", "meet", not_objects=_MEET_NOT), _R("meeting", "N", "CONSULT", "meet", weight=0.7),
    _R("talk", "N", "CONSULT", "meet", objects=("hold", "begin", "resume", "open", "start", "join", "attend", "peace",
       "bilateral", "direct")),
    _R("negotiate", "V", "CONSULT", "meet"), _R("negotiation", "N", "CONSULT", "meet", weight=0.8),
    _R("visit", "V", "CONSULT", "visit", not_objects=("website", "site", "page", "doctor", "store", "shop")),
    _R("visit", "N", "CONSULT", "visit", weight=0.8), _R("host", "V", "CONSULT", "host", weight=0.7,
       not_objects=("event", "party", "show", "game", "match", "festival", "concert", "conference", "summit", "tournament")),
    _R("phone", "V", "CONSULT", "phone"), _R("discuss", "V", "CONSULT", weight=0.7),
    _R("mediation", "N", "CONSULT", "meet", weight=0.8),
    # SUPPORT
    _R("praise", "V", "SUPPORT"), _R("endorse", "V", "SUPPORT"), _R("support", "V", "SUPPORT", weight=0.7),
    _R("back", "V", "SUPPORT", weight=0.6, not_objects=("car", "truck", "vehicle")),
    _R("welcome", "V", "SUPPORT", weight=0.7), _R("defend", "V", "SUPPORT", weight=0.7),
    _R("apologize", "V", "SUPPORT"), _R("apologise", "V", "SUPPORT"), _R("forgive", "V", "SUPPORT"),
    # CONCEDE
    _R("concede", "V", "CONCEDE"), _R("yield", "V", "CONCEDE", preps=("to",)), _R("comply", "V", "CONCEDE", weight=0.7),
    _R("lift", "V", "CONCEDE", objects=("ban", "sanction", "restriction", "curfew", "embargo", "blockade", "lockdown")),
    _R("ease", "V", "CONCEDE", objects=("restriction", "sanction", "ban", "curfew", "lockdown", "blockade")),
    # COOPERATE
    _R("cooperate", "V", "COOPERATE"), _R("collaborate", "V", "COOPERATE"), _R("extradite", "V", "COOPERATE", "legal"),
    _R("cooperation", "N", "COOPERATE", weight=0.6),
    _R("share", "V", "COOPERATE", "intelligence", objects=("intelligence", "information", "expertise", "data")),
    # AID
    _R("aid", "V", "AID"), _R("donate", "V", "AID"),
    _R("provide", "V", "AID", objects=("aid", "assistance", "supply", "food", "medicine", "weapon", "arm", "support",
       "funding", "loan", "shelter")),
    _R("send", "V", "AID", objects=("aid", "assistance", "supply", "food", "medicine", "weapon", "arm", "funding")),
    _R("deliver", "V", "AID", objects=("aid", "assistance", "supply", "food", "medicine", "weapon", "arm")),
    _R("asylum", "N", "AID", "asylum", objects=("grant", "give", "offer")),
    # RETREAT
    _R("withdraw", "V", "RETREAT", "withdraw", weight=0.8), _R("withdrawal", "N", "RETREAT", "withdraw", weight=0.8),
    _R("retreat", "V", "RETREAT"), _R("surrender", "V", "RETREAT", "disarm"),
    _R("release", "V", "RETREAT", "release", not_objects=_NOT_PEOPLE),
    _R("free", "V", "RETREAT", "release"), _R("ceasefire", "N", "RETREAT", "ceasefire"), _R("truce", "N", "RETREAT", "ceasefire"),
    _R("resign", "V", "RETREAT", "resign"), _R("pull", "V", "RETREAT", "withdraw", particle="out"),
    # SANCTION
    _R("sanction", "V", "SANCTION", "discontinue"), _R("sanction", "N", "SANCTION", "discontinue",
       objects=("impose", "slap", "announce", "new", "tough", "economic", "sweeping", "level")),
    _R("embargo", "N", "SANCTION", "discontinue"),
    _R("expel", "V", "SANCTION", "expel", objects=("diplomat", "ambassador", "envoy")),
    _R("convict", "V", "SANCTION", "convict"), _R("sentence", "V", "SANCTION", "convict"),
    _R("suspend", "V", "SANCTION", "discontinue", objects=("aid", "talk", "relation", "tie", "cooperation", "trade",
       "membership", "funding")),
    _R("cut", "V", "SANCTION", "discontinue", objects=("tie", "relation", "aid", "funding")),
    _R("freeze", "V", "SANCTION", "discontinue", objects=("asset", "account", "fund")),
    _R("halt", "V", "SANCTION", "discontinue", objects=("aid", "talk", "cooperation", "trade", "funding", "export",
       "import", "shipment")),
    # MOBILIZE
    _R("deploy", "V", "MOBILIZE", "troops"), _R("deployment", "N", "MOBILIZE", "troops", weight=0.8),
    _R("mobilize", "V", "MOBILIZE", "troops"), _R("mobilise", "V", "MOBILIZE", "troops"),
    _R("send", "V", "MOBILIZE", "troops", objects=("troop", "soldier", "force", "warship", "tank", "jet")),
    _R("send", "V", "MOBILIZE", "police", objects=("police", "officer", "riot")),
    _R("reinforce", "V", "MOBILIZE", "troops", objects=("troop", "force", "presence", "border", "position")),
    _R("strengthen", "V", "MOBILIZE", "troops", objects=("troop", "force", "presence")),
)

_BY_LEMMA: Dict[str, List[Rule]] = {}
for _rule in LEXICON:
    _BY_LEMMA.setdefault(_rule.lemma, []).append(_rule)

# Surface forms that can carry a trigger: a cheap test for which sentences need parsing.
_IRREGULAR = {"shoot": ("shot", "shots"), "fight": ("fought",), "sell": (), "beat": ("beaten",), "strike": ("struck",),
              "seize": (), "meet": ("met",), "send": ("sent",), "withdraw": ("withdrew", "withdrawn"), "free": ("freed",),
              "cut": (), "freeze": ("froze", "frozen"), "hold": (), "sentence": (), "pull": (), "crack": (),
              "gun": ("gunned",), "stab": ("stabbed",), "ban": ("banned",), "kidnap": ("kidnapped",),
              "plead": ("pled",), "rebuff": (), "swear": (), "forgive": ("forgave", "forgiven"), "bomb": ()}
TRIGGER_WORDS = frozenset(
    form for lemma in _BY_LEMMA for form in ((lemma,) + _IRREGULAR.get(lemma, ())))


def _inflections(word: str) -> List[str]:
    forms = [word]
    if word.endswith("e"):
        forms.append(word[:-1])  # seiz-ing, seiz-ed
    if word.endswith("y"):
        forms.append(word[:-1] + "i")  # ralli-ed, ralli-es
    return forms


_TRIGGER_SUFFIXES = ("", "s", "es", "ed", "d", "ing", "ings")
_TRIGGER_FORMS = frozenset(f + suffix for w in TRIGGER_WORDS for f in _inflections(w) for suffix in _TRIGGER_SUFFIXES)
_WORD_RE = re.compile(r"\w+")


def candidate_sentence(text: str) -> bool:
    """Cheap pre-filter: can ``text`` hold a trigger? Only such sentences are parsed.

    True when a whole word of ``text`` (a run of word characters), lower-cased, is a trigger word
    or an inflection of one ("arrest", "arrested", "seizing"): the same test as the regex
    ``\b(?:form1|form2|...)(?:s|es|ed|d|ing|ings)?\b`` without its cost (a set lookup per word
    instead of a 200-way alternation at every character)."""
    forms = _TRIGGER_FORMS
    return any(w.lower() in forms for w in _WORD_RE.findall(text))


# ------------------------------------------------------------------ article context

@dataclasses.dataclass
class ArticleContext:
    """What event extraction needs to know of the article beyond one sentence."""
    article_id: str
    published: Optional[_dt.date]
    entities: Sequence[Dict[str, Any]] = ()
    run_id: str = ""
    dt: Optional[_dt.date] = None
    # discourse state, updated sentence by sentence
    reference_date: Optional[_dt.date] = None
    reference_text: Optional[str] = None
    last_plural_actor: Optional[Tuple[str, Optional[str], Optional[str]]] = None
    dominant_place: Optional[Tuple[str, Any]] = None
    text: Optional[str] = None  # the article text: paragraph breaks reset a vague reference date
    lead_date: Optional[Tuple[_dt.date, str]] = None
    last_end: Optional[int] = None
    last_start: int = 0

    def __post_init__(self) -> None:
        self.entities = sorted(self.entities, key=lambda e: e["start_char"])
        counts: Dict[str, int] = {}
        for e in self.entities:
            if e["label"] in ("GPE", "LOC", "FAC") and geocode(e["canonical"]) is not None:
                counts[e["canonical"]] = counts.get(e["canonical"], 0) + 1
        if counts:
            name = max(counts, key=lambda k: (counts[k], -SPECIFICITY.get(geocode(k).kind, 0)))
            self.dominant_place = (name, geocode(name))

    def entities_in(self, start: int, end: int) -> List[Dict[str, Any]]:
        return [e for e in self.entities if e["start_char"] < end and start < e["end_char"]]

    def person_before(self, offset: int) -> Optional[Dict[str, Any]]:
        best = None
        for e in self.entities:
            if e["end_char"] > offset:
                break
            if e["label"] == "PERSON":
                best = e
        return best


# ------------------------------------------------------------------ syntax helpers

_NEGATIONS = {"not", "n't", "never", "no"}
_MODALS = {"could", "would", "might", "may", "should", "must", "can", "ca"}
_FUTURE_AUX = {"will", "shall", "'ll", "wo"}
_HYPOTHETICAL_HEADS = {"threaten", "plan", "want", "intend", "seek", "aim", "hope", "prepare", "consider", "propose",
                       "vow", "promise", "pledge", "warn", "urge", "demand", "call", "ask", "refuse", "fail", "decline",
                       "attempt", "expect", "wish", "need", "order", "push", "press", "plot", "scheme", "conspire"}
_NEGATING_HEADS = {"refuse", "fail", "decline", "deny"}
_FUTURE_HEADS = {"plan", "schedule", "set", "expect", "intend", "prepare"}
_ARG_PREPS = {"at", "on", "upon", "against", "into", "with", "to", "of"}
_RECIPIENT_PREPS = {
    **{t: {"at", "on", "upon", "against", "into"} for t in ("ASSAULT", "COERCE", "SANCTION", "THREATEN", "ACCUSE", "REJECT")},
    **{t: {"with"} for t in ("CONSULT", "COOPERATE", "AGREE")},
    "REQUEST": {"on", "upon", "to"}, "AID": {"to"}, "SUPPORT": {"for"}, "RETREAT": {"from"}, "CONCEDE": {"to"},
}
_PRONOUNS_PLURAL = {"they", "them", "we", "us"}
_PRONOUNS_PERSON = {"he", "him", "she", "her"}
_PLACE_NOUNS = {"neighborhood", "neighbourhood", "district", "area", "city", "town", "region", "province", "state",
                "village", "suburb", "borough", "county", "capital", "quarter", "camp", "border", "coast", "island",
                # landscape words a place names ("Iraq's Anbar desert", "the Kandahar countryside")
                "desert", "countryside", "outskirts", "mountain", "mountains", "valley", "highlands", "hills", "forest",
                "jungle", "delta", "peninsula", "enclave", "territory", "governorate", "municipality", "prefecture",
                "oblast", "frontier", "port", "harbor", "harbour", "waters", "zone"}
_COLLECTIVE = {"police", "government", "army", "military", "administration", "authority", "force", "regime",
               "council", "parliament", "committee", "court", "ministry", "agency", "navy", "coalition"}


def _has_neg(token) -> bool:
    return any(c.dep_ == "neg" or c.lower_ in _NEGATIONS and c.dep_ in ("advmod", "neg", "det") for c in token.children)


def _aux(token) -> List[str]:
    return [c.lower_ for c in token.children if c.dep_ in ("aux", "auxpass")]


def _flags(trigger) -> Tuple[bool, bool, bool]:
    """(negated, hypothetical, future) from the trigger's own auxiliaries and the chain of
    heads it is embedded under (xcomp/ccomp/advcl), up to the sentence root."""
    negated = _has_neg(trigger)
    aux = _aux(trigger)
    hypothetical = any(a in _MODALS for a in aux)
    future = any(a in _FUTURE_AUX for a in aux) or ("going" in aux and "to" in aux)
    if any(c.dep_ == "mark" and c.lower_ in ("if", "unless", "whether") for c in trigger.children):
        hypothetical = True
    token = trigger
    steps = 0
    while token.dep_ in ("xcomp", "ccomp", "advcl", "conj", "pcomp", "acl", "relcl", "dobj", "pobj", "prep") \
            and token.head.i != token.i and steps < 6:
        child, token = token, token.head
        steps += 1
        lemma = token.lemma_.lower()
        if child.dep_ in ("xcomp",) and lemma in _HYPOTHETICAL_HEADS:
            hypothetical = True
            negated = negated or lemma in _NEGATING_HEADS
        if child.dep_ == "xcomp" and lemma in _FUTURE_HEADS:
            future = True
        if child.dep_ in ("xcomp", "advcl") and child.i > token.i and any(
                c.dep_ == "aux" and c.lower_ == "to" for c in child.children) and token.lemma_ == "be":
            hypothetical = True  # "we are here to arrest you": purpose, not an event
        if child.dep_ in ("xcomp", "conj"):
            negated = negated or (_has_neg(token) and child.dep_ == "xcomp")
            token_aux = _aux(token)
            hypothetical = hypothetical or any(a in _MODALS for a in token_aux)
            future = future or any(a in _FUTURE_AUX for a in token_aux)
        if child.dep_ in ("dobj", "nsubjpass", "nsubj") and child.pos_ in ("NOUN", "PROPN"):
            # an event noun inherits its verb's modality: "Ice could order the deportation"
            negated = negated or _has_neg(token)
            token_aux = _aux(token)
            hypothetical = hypothetical or any(a in _MODALS for a in token_aux)
            future = future or any(a in _FUTURE_AUX for a in token_aux)
        if child.dep_ in ("conj",):
            continue
        if child.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ in ("after", "before", "when", "once",
                                                                          "until", "if", "unless")
                                         for c in child.children):
            token_aux = _aux(token)
            hypothetical = hypothetical or any(a in _MODALS for a in token_aux)
            future = future or any(a in _FUTURE_AUX for a in token_aux)
        if child.dep_ in ("ccomp", "advcl", "relcl", "acl", "pobj", "prep", "pcomp", "dobj"):
            break
    return negated, hypothetical, future


def _np(token) -> Tuple[int, int]:
    """Token range [start, end) of the noun phrase headed by ``token``: its left modifiers, and a
    right ``of``-phrase ("two of his officers")."""
    left = token.i
    for c in token.lefts:
        if c.dep_ in ("det", "amod", "compound", "poss", "nummod", "nmod", "quantmod", "case", "advmod", "predet"):
            left = min(left, c.left_edge.i)
    right = token.i + 1
    for c in token.rights:
        if c.dep_ == "case" and token.dep_ != "poss":  # a possessor is "Diaz", not "Diaz's"
            right = max(right, c.i + 1)
        elif c.dep_ == "prep" and c.lower_ == "of" and token.pos_ in ("NUM", "PRON", "NOUN") and \
                token.lower_ in ("two", "three", "four", "five", "some", "many", "several", "one", "dozens", "hundreds",
                                 "thousands", "most", "all", "none", "members", "group", "number"):
            right = max(right, c.right_edge.i + 1)
        elif c.dep_ in ("compound", "flat") or (c.dep_ == "punct" and c.text == "-" and c.i + 1 < len(c.doc)
                                                 and c.doc[c.i + 1].head == token):
            right = max(right, c.i + 1)
    return left, right


def _subject(verb, depth: int = 0):
    """The subject of ``verb``, inherited through xcomp/conj/advcl/pcomp chains ("tried to deport",
    "before attacking")."""
    for c in verb.children:
        if c.dep_ in ("nsubj", "csubj"):
            return c
    if depth < 4 and verb.dep_ in ("xcomp", "conj", "pcomp", "advcl") and verb.head.i != verb.i:
        head = verb.head
        if head.dep_ == "prep" and head.head.i != head.i:
            head = head.head
        return _subject(head, depth + 1)
    return None


def _children(token, *deps):
    return [c for c in token.children if c.dep_ in deps]


def _arguments(trigger, rule: Rule):
    """(actor token, recipient token) from the dependency tree."""
    actor = recipient = None
    if rule.pos == "V":
        passive = any(c.dep_ in ("nsubjpass", "auxpass") for c in trigger.children)
        if passive:
            subj = _children(trigger, "nsubjpass")
            recipient = subj[0] if subj else None
            for agent in _children(trigger, "agent"):
                pobj = _children(agent, "pobj")
                actor = pobj[0] if pobj else None
            if recipient is None and trigger.dep_ in ("acl", "relcl") and trigger.head.i != trigger.i:
                recipient = trigger.head
        else:
            actor = _subject(trigger)
            objs = _children(trigger, "dobj", "dative", "obj")
            recipient = objs[0] if objs else None
            if (actor is not None and recipient is None and trigger.tag_ == "VBN"
                    and trigger.dep_ in ("conj", "advcl", "acl", "xcomp")
                    and not any(c.dep_ in ("nsubj", "aux") for c in trigger.children)):
                # A reduced passive: "the leader is dead, killed in a raid" - the inherited subject
                # is the one killed, not the killer.
                actor, recipient = None, actor
            if rule.event in ("PROTEST", "MOBILIZE"):
                recipient = next((p for prep in _children(trigger, "prep") if prep.lower_ == "against"
                                  for p in _children(prep, "pobj")), None)
            elif recipient is None:
                allowed = _RECIPIENT_PREPS.get(rule.event, _ARG_PREPS)
                for prep in _children(trigger, "prep"):
                    if prep.lower_ in allowed:
                        pobj = _children(prep, "pobj")
                        if pobj:
                            recipient = pobj[0]
                            break
        if rule.event in ("ASSAULT",) and recipient is not None and recipient.lemma_.lower() in (
                "shot", "round", "bullet", "shell", "missile", "rocket", "gas"):
            recipient = None
            for prep in _children(trigger, "prep"):
                pobj = _children(prep, "pobj")
                if pobj and prep.lower_ in ("at", "on", "into", "through"):
                    recipient = pobj[0]
    else:
        for c in trigger.children:
            if c.dep_ == "poss":
                actor = c
            elif c.dep_ in ("amod", "compound") and c.ent_type_ in ("NORP", "GPE", "ORG"):
                actor = actor or c
            elif c.dep_ == "prep":
                pobj = _children(c, "pobj")
                if not pobj:
                    continue
                if c.lower_ == "by":
                    actor = pobj[0]
                elif c.lower_ in ("on", "against", "of", "at"):
                    recipient = recipient or pobj[0]
        if actor is not None and recipient is None and rule.event in ("COERCE", "ASSAULT") and actor.dep_ == "poss":
            recipient, actor = actor, None  # "Diaz's arrest": the possessor is arrested
        verb = trigger.head if trigger.head.i != trigger.i else None
        if verb is not None and verb.pos_ in ("VERB", "AUX"):
            if trigger.dep_ in ("dobj", "obj") and actor is None and verb.lemma_.lower() not in _REPORTING_VERBS:
                actor = _subject(verb)  # "the US imposed sanctions": light verb + event noun
            elif trigger.dep_ == "nsubj" and recipient is None and verb.lemma_.lower() not in _LIGHT_VERBS:
                objs = _children(verb, "dobj", "obj")
                recipient = objs[0] if objs else None  # "an airstrike hit a hospital"
            elif trigger.dep_ == "nsubjpass" and actor is None:
                for agent in _children(verb, "agent"):
                    pobj = _children(agent, "pobj")
                    actor = pobj[0] if pobj else None
    recipient = _resolve_relative(recipient, trigger)
    actor = _resolve_relative(actor, trigger)
    if actor is not None and actor.lemma_.lower() in _INSTRUMENTS:
        owner = _children(actor, "poss")  # "an officer's weapon went off and shot ...": the officer
        if owner:
            actor = owner[0]
    if recipient is not None and (recipient.ent_type_ in ("TIME", "DATE") or recipient.lemma_.lower() in _TIME_WORDS):
        recipient = None
    if recipient is not None and actor is not None and recipient.i == actor.i:
        recipient = None
    return actor, recipient


_WEAPON_WORDS = {"gun", "rifle", "pistol", "bomb", "missile", "rocket", "drone", "artillery", "shell", "grenade",
                 "explosive", "airstrike", "tank", "knife", "machete", "weapon", "troop", "force", "army", "military"}
_ACCIDENT_PRONE = {"kill", "explode", "explosion", "blast", "detonate", "injure", "wound", "killing"}
_ACCIDENT_WORDS = {"accident", "accidental", "accidentally", "crash", "collision", "flood", "earthquake", "storm",
                   "landslide", "avalanche", "derailment", "overdose", "disease", "illness", "cancer", "heatwave"}


def _accidental(token) -> bool:
    """Deaths and blasts in accidents and disasters are not assaults."""
    return any(t.lemma_.lower() in _ACCIDENT_WORDS for t in token.sent)


_INSTRUMENTS = {"gun", "rifle", "pistol", "weapon", "firearm", "revolver", "handgun", "bomb", "knife", "machete",
                "grenade", "taser"}
"""Things that cannot act: as the subject of an assault, their possessor is the actor."""
_REPORTING_VERBS = {"announce", "report", "confirm", "deny", "condemn", "denounce", "welcome", "praise", "hail",
                    "celebrate", "mourn", "investigate", "probe", "witness", "see", "watch", "hear", "describe",
                    "claim", "acknowledge", "discuss", "criticize", "criticise", "blame", "recall", "mark",
                    "commemorate", "film", "record", "document", "detail", "publicize", "reveal", "disclose"}
"""Verbs whose subject speaks about or witnesses an event noun they govern, not its actor: "Trump announced
the killing of ..." does not make Trump the killer."""
_LIGHT_VERBS = {"take", "have", "be", "occur", "happen", "become", "remain", "continue", "come", "begin", "start",
                "end", "last", "follow", "seem", "appear"}
_TIME_WORDS = {"a.m.", "p.m.", "am", "pm", "time", "hour", "minute", "morning", "afternoon", "evening", "night",
               "day", "week", "month", "year", "o'clock", "noon", "midnight"}


def _resolve_relative(token, trigger):
    """A relative pronoun argument ("who", "that") stands for the noun its clause modifies;
    an apposition ("a Mexican citizen") for the name it follows."""
    if token is None or token.lower_ not in ("who", "whom", "that", "which"):
        return token
    clause = trigger
    for _ in range(8):  # bounded: a parse is a tree, but never trust a loop over one
        if clause.dep_ in ("relcl", "acl") or clause.head.i == clause.i:
            break
        clause = clause.head
    if clause.dep_ not in ("relcl", "acl"):
        return token
    noun = clause.head
    if noun.dep_ == "appos" and noun.head.i != noun.i:
        noun = noun.head
    return noun


def _match_rule(token) -> Optional[Rule]:
    lemma = token.lemma_.lower()
    pos = "V" if token.pos_ in ("VERB", "AUX") else "N" if token.pos_ in ("NOUN", "PROPN") else None
    if pos is None:
        return None
    if token.dep_ in ("compound", "amod", "acomp"):
        return None  # "the shooting victim", "life threatening": a modifier, not an event mention
    if pos == "V" and any(c.dep_ == "det" for c in token.children):
        return None  # "the accused": a verb form used as a noun
    if pos == "N" and lemma == "march" and token.text[0].isupper():
        return None
    objects = {c.lemma_.lower() for c in token.children if c.dep_ in ("dobj", "obj", "nsubjpass", "attr")}
    mods = {c.lemma_.lower() for c in token.children if c.dep_ in ("compound", "amod", "nmod")}
    head = token.head if token.head.i != token.i else None
    if head is not None and head.dep_ == "prep" and head.head.i != head.i:
        head = head.head  # "went on strike": the verb governs through the preposition
    head_lemma = head.lemma_.lower() if head is not None else ""
    preps = {c.lower_ for c in token.children if c.dep_ in ("prep", "agent", "dative")}
    particles = {c.lower_ for c in token.children if c.dep_ == "prt"}
    for rule in _BY_LEMMA.get(lemma, ()):
        if rule.pos != pos:
            continue
        if rule.objects:
            pool = objects | mods if pos == "V" else mods | {head_lemma}
            if pos == "V":
                pool |= {c.lemma_.lower() for o in token.children if o.dep_ in ("dobj", "nsubjpass")
                         for c in o.children if c.dep_ in ("compound", "amod")}
            if not (pool & set(rule.objects)):
                continue
        if rule.not_objects:
            deep = {t.lemma_.lower() for c in token.children if c.dep_ in ("dobj", "obj", "nsubjpass", "attr")
                    for t in c.subtree}
            if deep & set(rule.not_objects):
                continue
        if rule.not_subjects and {c.lemma_.lower() for c in token.children if c.dep_ == "nsubj"} & set(rule.not_subjects):
            continue
        if rule.preps:
            # the preposition must follow the verb and not introduce a date ("On Friday, X called ...")
            good = {c.lower_ for c in token.children if c.dep_ in ("prep", "agent", "dative") and c.i > token.i
                    and not any(g.ent_type_ in ("DATE", "TIME") for g in c.children)}
            if not (good & set(rule.preps)):
                continue
        if rule.needs_xcomp and not any(
                c.dep_ == "xcomp" or (c.dep_ == "ccomp" and any(a.lower_ in _MODALS | _FUTURE_AUX | {"would"}
                                                                for a in c.children if a.dep_ == "aux"))
                for c in token.children):
            continue
        if rule.event == "ASSAULT" and rule.lemma in _ACCIDENT_PRONE and _accidental(token):
            continue
        if rule.particle and rule.particle not in particles:
            continue
        return rule
    return None


def _mode(rule: Rule, trigger) -> Optional[str]:
    mods = {c.lemma_.lower() for c in trigger.children if c.dep_ in ("compound", "amod", "nmod")}
    for word, mode in rule.modifier_modes:
        if word in mods:
            return mode
    if rule.event == "ASSAULT" and rule.mode is None:
        sentence = trigger.sent
        words = {t.lemma_.lower() for t in sentence}
        if "suicide" in words and words & {"bomber", "bombing", "attack", "attacker", "vest"}:
            return "suicide-attack"
        if words & {"gun", "rifle", "pistol", "gunman", "gunmen", "bullet", "shoot", "gunfire"}:
            return "firearms"
        if words & {"bomb", "explosive", "ied", "grenade"}:
            return "explosives"
        if words & {"knife", "machete", "stab"}:
            return "primitive"
        if rule.lemma in ("attack", "assault") and rule.pos == "V" and not words & _WEAPON_WORDS:
            objs = [c for c in trigger.children if c.dep_ in ("dobj", "nsubjpass")]
            if objs and (objs[0].ent_type_ == "PERSON" or objs[0].pos_ == "PRON"):
                return "beat"  # one person attacking another, no weapon named
    return rule.mode


# ------------------------------------------------------------------ argument resolution

def _entity_for(tokens_range: Tuple[int, int], head, sent, offset: int, ctx: ArticleContext):
    """The entity row naming an argument: one covering the head word, else an ORG/NORP/GPE
    modifier of it ("ice officers" -> ICE, "US officials" -> United States)."""
    doc = head.doc
    hs, he = head.idx + offset, head.idx + len(head.text) + offset
    s = doc[tokens_range[0]].idx + offset
    e = doc[tokens_range[1] - 1].idx + len(doc[tokens_range[1] - 1].text) + offset
    inside = ctx.entities_in(s, e)
    for ent in inside:
        if ent["start_char"] < he and hs < ent["end_char"] and ent["label"] not in ("DATE", "TIME", "CARDINAL",
                                                                                     "ORDINAL", "QUANTITY"):
            return ent
    for ent in inside:
        if ent["label"] in ("ORG", "NORP", "GPE") and ent["end_char"] <= hs:
            return ent
    return None


def _argument(token, sent, offset: int, ctx: ArticleContext):
    """(surface, canonical, entity_id) of an argument token, pronouns resolved where possible."""
    if token is None:
        return None, None, None
    start, end = _np(token)
    doc = token.doc
    text = doc[start:end].text
    low = token.lower_
    if token.pos_ == "PRON" or low in _PRONOUNS_PERSON | _PRONOUNS_PLURAL:
        if low in _PRONOUNS_PERSON:
            ent = ctx.person_before(token.idx + offset)
            if ent is not None:
                return token.text, ent["canonical"], ent["entity_id"]
        if low in _PRONOUNS_PLURAL and ctx.last_plural_actor is not None:
            _, canonical, entity_id = ctx.last_plural_actor
            return token.text, canonical or ctx.last_plural_actor[0], entity_id
        return token.text, None, None
    ent = _entity_for((start, end), token, sent, offset, ctx)
    if ent is None:
        return text, None, None
    return text, ent["canonical"], ent["entity_id"]


def _is_modifier_or_actor(t) -> bool:
    """A place entity (by its root token) that only modifies a noun ("Connecticut license plates",
    "City Hall spokeswoman") or acts ("Russia threatened") does not say where an event happened."""
    if t.dep_ in ("compound", "amod", "nmod", "poss"):
        return t.head.ent_type_ not in ("GPE", "LOC", "FAC") and t.head.lemma_.lower() not in _PLACE_NOUNS
    return t.dep_ in ("nsubj", "nsubjpass", "dobj") or (t.dep_ == "conj" and t.head.dep_ == "nsubj")


def _location(sent_start: int, sent_end: int, ctx: ArticleContext, modifier_starts=frozenset()):
    """(name, GeoPoint or None, source) for the event's sentence, else the article's dominant place."""
    places = [e for e in ctx.entities_in(sent_start, sent_end) if e["label"] in ("GPE", "LOC", "FAC")
              and e["start_char"] not in modifier_starts]
    coded = [(e, geocode(e["canonical"]) or geocode(e["text"])) for e in places]
    coded = [(e, g) for e, g in coded if g is not None]
    if coded:
        e, g = max(coded, key=lambda eg: (SPECIFICITY.get(eg[1].kind, 0), -eg[0]["start_char"]))
        return e["canonical"], g, "sentence"
    if places:
        return places[0]["canonical"], None, "sentence"
    if ctx.dominant_place is not None:
        name, g = ctx.dominant_place
        return name, g, "article"
    return None, None, None


def _event_id(article_id: str, start: int, event_type: str) -> str:
    return hashlib.sha256(f"{article_id}|{start}|{event_type}".encode()).hexdigest()[:24]


def _confidence(rule: Rule, pos: str, actor, recipient, actor_id, recipient_id, flagged: bool) -> float:
    score = 0.45 * rule.weight + (0.15 if pos == "V" else 0.05)
    score += 0.15 if actor else 0.0
    score += 0.15 if recipient else 0.0
    score += 0.05 if actor_id else 0.0
    score += 0.05 if recipient_id else 0.0
    if flagged:
        score *= 0.6
    return round(max(0.05, min(1.0, score)), 3)


# ------------------------------------------------------------------ extraction

def extract_events(sentences: Iterable[Tuple[Any, int]], ctx: ArticleContext) -> List[Dict[str, Any]]:
    """Events of one article.

    ``sentences`` are ``(span, offset)`` pairs in article order, where ``span`` is a parsed spaCy
    sentence (a ``Span`` or a ``Doc``) and ``offset`` maps its character offsets to the article's
    (``article_offset = span_offset + offset``). Sentences that were not parsed because they hold
    no trigger word may be left out; pass them with ``span=None`` and a ``text`` via a tuple
    ``(text, offset)`` so that the discourse date still advances (see :func:`_advance_date`).
    Returns rows of the ``events`` table.
    """
    events: List[Dict[str, Any]] = []
    seen = set()
    doc_ents: Dict[int, Tuple[Any, List[Any]]] = {}
    for sent, offset in sentences:
        start = offset if isinstance(sent, str) else (sent[0].idx + offset if len(sent) else offset)
        _new_paragraph(ctx, start)
        if isinstance(sent, str):
            _advance_date(sent, ctx)
            ctx.last_start, ctx.last_end = start, start + len(sent)
            continue
        sent_start = sent[0].idx + offset if len(sent) else offset
        sent_end = sent[-1].idx + len(sent[-1].text) + offset if len(sent) else offset
        sent_text = sent.text
        sentence_dates = find_date_expressions(sent_text, ctx.published)
        # Places used as modifiers ("Connecticut license plates", "US officials") do not say where.
        # Places that act ("Russia threatened") are actors, not where the event happened.
        doc = sent.doc
        if id(doc) not in doc_ents:  # Span.ents scans the whole doc; one scan per doc
            doc_ents.clear()
            doc_ents[id(doc)] = (doc, list(doc.ents))
        ents = [e for e in doc_ents[id(doc)][1] if e.start >= sent.start and e.end <= sent.end]
        modifiers = frozenset(ent.start_char + offset for ent in ents if _is_modifier_or_actor(ent.root))
        for token in sent:
            rule = _match_rule(token)
            if rule is None:
                continue
            negated, hypothetical, future = _flags(token)
            actor_tok, recipient_tok = _arguments(token, rule)
            actor, actor_canonical, actor_id = _argument(actor_tok, sent, offset, ctx)
            recipient, recipient_canonical, recipient_id = _argument(recipient_tok, sent, offset, ctx)
            key = (sent_start, rule.event, _mode(rule, token), recipient_canonical or recipient)
            if key in seen:
                continue
            seen.add(key)
            if actor_tok is not None and actor_tok.pos_ != "PRON" and (
                    actor_tok.tag_ in ("NNS", "NNPS") or actor_tok.lemma_.lower() in _COLLECTIVE):
                ctx.last_plural_actor = (actor, actor_canonical, actor_id)
            trig_start = token.idx + offset
            date_value, date_text = _event_date(token, sentence_dates, ctx, future)
            place, point, place_source = _location(sent_start, sent_end, ctx, modifiers)
            events.append({
                "event_id": _event_id(ctx.article_id, trig_start, rule.event),
                "article_id": ctx.article_id,
                "event_type": rule.event,
                "mode": _mode(rule, token),
                "quad_class": QUAD_CLASS[rule.event],
                "trigger": token.text,
                "trigger_start": trig_start,
                "trigger_end": trig_start + len(token.text),
                "actor": actor, "actor_canonical": actor_canonical, "actor_entity_id": actor_id,
                "recipient": recipient, "recipient_canonical": recipient_canonical, "recipient_entity_id": recipient_id,
                "location": place,
                "country_code": point.country_code if point else None,
                "latitude": point.latitude if point else None,
                "longitude": point.longitude if point else None,
                "location_source": place_source,
                "event_date": date_value,
                "date_text": date_text,
                "sentence": sent_text,
                "sentence_start": sent_start,
                "sentence_end": sent_end,
                "negated": negated,
                "hypothetical": hypothetical,
                "future": future,
                "confidence": _confidence(rule, rule.pos, actor, recipient, actor_id, recipient_id,
                                          negated or hypothetical or future),
                "run_id": ctx.run_id,
                "dt": ctx.dt,
            })
        _advance_date(sent_text, ctx, sentence_dates)
        ctx.last_start, ctx.last_end = sent_start, sent_end
    return events


def _new_paragraph(ctx: ArticleContext, start: int) -> None:
    """At a paragraph break, a vague reference date ("earlier this week") stops applying; the
    lead's date (the story's main day) takes over again."""
    if ctx.text is None or ctx.last_end is None:
        return
    previous = ctx.text[ctx.last_start:start]  # the previous sentence, with the white space after it
    if "\n\n" not in previous[len(previous.rstrip()):]:
        return
    if ctx.reference_text is not None and ctx.reference_date is None and ctx.lead_date is not None:
        ctx.reference_date, ctx.reference_text = ctx.lead_date


def _event_date(token, sentence_dates, ctx: ArticleContext, future: bool):
    """The date of the event at ``token``: the sentence's temporal expression nearest the trigger,
    else the discourse reference date (the last expression of earlier sentences)."""
    if sentence_dates:
        sent_offset = token.sent.start_char if hasattr(token, "sent") else 0
        pos = token.idx - sent_offset
        nearest = min(sentence_dates, key=lambda d: abs((d.start + d.end) / 2 - pos))
        if future and nearest.date is not None:
            redo = find_date_expressions(nearest.text, ctx.published, future=True)
            if redo:
                return redo[0].date, nearest.text
        return nearest.date, nearest.text
    perfect = any(c.dep_ in ("aux", "auxpass") and c.lower_ in ("has", "have", "had") for c in token.children)
    if ctx.reference_text is not None and not perfect and (token.pos_ == "NOUN" or _is_past(token)):
        return ctx.reference_date, ctx.reference_text
    return None, None


def _is_past(token) -> bool:
    """Is the clause of ``token`` in the past ("tried to arrest", "did not identify ... before
    attacking")? Walks up to the governing finite verb."""
    for _ in range(5):
        if token.tag_ in ("VBD", "VBN") or any(c.dep_ in ("aux", "auxpass") and c.lower_ in (
                "did", "had", "was", "were", "has", "have") for c in token.children):
            return True
        if token.dep_ not in ("xcomp", "pcomp", "prep", "conj", "advcl") or token.head.i == token.i:
            return False
        token = token.head
    return False


def _advance_date(text: str, ctx: ArticleContext, found=None) -> None:
    found = find_date_expressions(text, ctx.published) if found is None else found
    if found:
        last = found[-1]
        ctx.reference_date, ctx.reference_text = last.date, last.text
        if ctx.lead_date is None:
            first = next((d for d in found if d.date is not None), None)
            if first is not None:
                ctx.lead_date = (first.date, first.text)
