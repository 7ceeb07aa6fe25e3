"""When a trigger word is not an event: competition and award senses ("beat Morrissey to the award"),
idioms ("shot to fame", "killed off"), subjects that cannot act ("tragedy struck"), self-injury ("injured
her knee"), fiction, disagreement ("clashed with the magazine"), personal life ("met her husband"),
questions ("asked whether"), market language ("demand dipped") and verbal events without participants.

The word lists are data (``senses.yaml``); :func:`story_domain` reads the article (URL path, section,
title, vocabulary) and :func:`not_an_event` says why a matched trigger codes nothing, or None.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path
from typing import Any, Dict, FrozenSet, Optional, Tuple
from urllib.parse import urlsplit

import yaml

from transforms.nlp.events.lexicon import Rule
from transforms.nlp.events.syntax import partner_of, subject_of

__all__ = ["Senses", "Idiom", "load_senses", "senses", "story_domain", "not_an_event", "violence_cue", "DOMAINS",
           "needs_an_agent"]

DATA_FILE = Path(__file__).resolve().parent / "senses.yaml"
_WORD = re.compile(r"[a-z][a-z\-]+")
_SCORE = re.compile(r"\b\d{1,3}\s*[-–]\s*\d{1,3}\b")


@dataclasses.dataclass(frozen=True)
class Idiom:
    lemma: str
    particle: Optional[str] = None
    preps: Tuple[str, ...] = ()
    objects: Tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Senses:
    domain_urls: Dict[str, FrozenSet[str]]
    domain_words: Dict[str, FrozenSet[str]]
    min_score: float
    min_lead: float
    text_weight: float
    competition_lemmas: FrozenSet[str]
    competition_words: FrozenSet[str]
    violence_cues: FrozenSet[str]
    victims: FrozenSet[str]
    idioms: Tuple[Idiom, ...]
    non_agent_subjects: FrozenSet[str]
    body_parts: FrozenSet[str]
    fiction_words: FrozenSet[str]
    verbal_clash_partners: FrozenSet[str]
    personal_nouns: FrozenSet[str]
    first_person: FrozenSet[str]
    market_subjects: FrozenSet[str]
    domain_cue_events: FrozenSet[str]
    work_events: FrozenSet[str]
    work_nouns: FrozenSet[str]
    target_verbs: FrozenSet[str]
    agent_events: FrozenSet[str]
    technical_events: FrozenSet[str]
    technical_words: FrozenSet[str]
    agree_lemmas: FrozenSet[str]
    agree_preps: FrozenSet[str]
    discuss_lemmas: FrozenSet[str]
    collective_subjects: FrozenSet[str]
    threat_nouns: FrozenSet[str]
    threat_verbs: FrozenSet[str]


def load_senses(path: Path = DATA_FILE) -> Senses:
    """Read ``senses.yaml``; raises ``ValueError`` for a missing list or an idiom field it does not know."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))

    def words(name: str) -> FrozenSet[str]:
        if name not in data:
            raise ValueError(f"{path.name}: no list {name!r}")
        return frozenset(str(w).lower() for w in data[name])

    idioms = []
    for spec in data["idioms"]:
        unknown = set(spec) - {"lemma", "particle", "preps", "objects"}
        if unknown:
            raise ValueError(f"{path.name}: idiom {spec} has unknown field(s) {sorted(unknown)}")
        if not all(isinstance(v, str) for k in ("lemma", "particle") if k in spec for v in [spec[k]]):
            raise ValueError(f"{path.name}: idiom {spec}: lemma and particle must be words (quote YAML's on/off/yes/no)")
        idioms.append(Idiom(spec["lemma"], spec.get("particle"), tuple(spec.get("preps", ())),
                            tuple(spec.get("objects", ()))))
    domains = data["domains"]
    return Senses(
        domain_urls={d: frozenset(v["url"]) for d, v in domains.items()},
        domain_words={d: frozenset(v["words"]) for d, v in domains.items()},
        min_score=float(data["domain_rule"]["min_score"]), min_lead=float(data["domain_rule"]["min_lead"]),
        text_weight=float(data["domain_rule"]["text_weight"]),
        competition_lemmas=words("competition_lemmas"), competition_words=words("competition_words"),
        violence_cues=words("violence_cues"), victims=words("victims"), idioms=tuple(idioms),
        non_agent_subjects=words("non_agent_subjects"), body_parts=words("body_parts"),
        fiction_words=words("fiction_words"), verbal_clash_partners=words("verbal_clash_partners"),
        personal_nouns=words("personal_nouns"), first_person=words("first_person"),
        market_subjects=words("market_subjects"), domain_cue_events=frozenset(data["domain_cue_events"]),
        work_events=frozenset(data["work_events"]), work_nouns=words("work_nouns"), target_verbs=words("target_verbs"),
        agent_events=frozenset(data["agent_events"]), technical_events=frozenset(data["technical_events"]),
        technical_words=words("technical_words"), agree_lemmas=words("agree_lemmas"), agree_preps=words("agree_preps"),
        discuss_lemmas=words("discuss_lemmas"), collective_subjects=words("collective_subjects"),
        threat_nouns=words("threat_nouns"), threat_verbs=words("threat_verbs"))


@functools.lru_cache(maxsize=None)
def senses() -> Senses:
    """The shipped lists, loaded once per process."""
    return load_senses()


DOMAINS = ("sport", "culture", "business", "technology")


def story_domain(title: Optional[str] = None, url: Optional[str] = None, section: Optional[str] = None,
                 text: str = "") -> Optional[str]:
    """The story's domain (``sport``, ``culture``, ``business``, ``technology``) when the article says
    so clearly, else None (news, politics, conflict: the lexicon's default senses). Signals: URL path
    segments and the section or feed title (3 each), title words (2 each), text words
    (``text_weight`` per domain word in 100); the best domain needs ``min_score`` and a lead of
    ``min_lead`` (``senses.yaml``)."""
    s = senses()
    path_words = set(re.split(r"[/\-_.]+", urlsplit(url).path.lower())) if url else set()
    section_words = set(_WORD.findall((section or "").lower()))
    title_words = _WORD.findall((title or "").lower())
    text_words = _WORD.findall(text[:20_000].lower())
    per_word = 100.0 * s.text_weight / max(len(text_words), 200)
    scores = {}
    for domain in s.domain_words:
        vocab = s.domain_words[domain]
        score = 3.0 * bool(path_words & s.domain_urls[domain]) + 3.0 * bool(section_words & (s.domain_urls[domain] | vocab))
        score += 2.0 * sum(1 for w in title_words if w in vocab)
        score += per_word * sum(1 for w in text_words if w in vocab)
        scores[domain] = score
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best_score >= s.min_score and best_score - runner_up >= s.min_lead:
        return best
    return None


def _lemmas(tokens: Any) -> FrozenSet[str]:
    return frozenset(t.lemma_.lower() for t in tokens) | frozenset(t.lower_ for t in tokens)


def violence_cue(sent: Any) -> bool:
    """Does the sentence (a spaCy span) hold a word of physical violence or security forces?"""
    return bool(_lemmas(sent) & senses().violence_cues)


def _children(token: Any, *deps: str) -> list:
    return [c for c in token.children if c.dep_ in deps]


def _idiom(token: Any, s: Senses) -> bool:
    lemma = token.lemma_.lower()
    particles = {c.lower_ for c in _children(token, "prt")}
    # "make ends meet" parses "ends" as the subject: an idiom's words may stand on either side
    objects = {c.lemma_.lower() for c in _children(token, "dobj", "obj", "nsubjpass", "nsubj")}
    for idiom in s.idioms:
        if idiom.lemma != lemma:
            continue
        if idiom.particle and idiom.particle not in particles:
            continue
        if idiom.preps:
            preps = [prep for prep in _children(token, "prep") if prep.lower_ in idiom.preps]
            pobjs = {p.lemma_.lower() for prep in preps for p in _children(prep, "pobj")}
            if not preps or (idiom.objects and not pobjs & set(idiom.objects)):
                continue
        elif idiom.objects and not objects & set(idiom.objects):
            continue
        return True
    return False


def not_an_event(token: Any, rule: Rule, domain: Optional[str] = None) -> Optional[str]:
    """Why the trigger ``token`` (which matched ``rule``) codes no event here, or None.

    Reasons: ``idiom``, ``no_agent`` (the subject cannot act), ``self_injury``, ``competition``
    (a competition/award sense of a violence word: in a sport or culture story, or beside
    competition words or a score, with no violence cue in the sentence and no person as victim),
    ``disagreement`` ("clashed with" a non-violent partner), ``fiction`` (a plot in a culture story),
    ``personal`` (a private meeting), ``question`` ("asked whether"), ``market`` (prices, demand) and
    ``no_participant`` (a verbal event with neither subject nor object: "a factor in defending")."""
    s = senses()
    lemma = rule.lemma
    sent = token.sent
    words = _lemmas(sent)
    subjects = _children(token, "nsubj", "nsubjpass") if rule.pos == "V" else []
    subject_lemmas = {c.lemma_.lower() for c in _children(token, "nsubj")}
    objects = _children(token, "dobj", "obj")
    if _idiom(token, s):
        return "idiom"
    if rule.event == "ASSAULT" and subject_lemmas & s.non_agent_subjects:
        return "no_agent"
    if subject_lemmas & s.market_subjects or (
            token.lemma_.lower() in s.market_subjects and rule.pos == "V" and not subjects and not objects
            and not _children(token, "ccomp", "xcomp", "prep", "dative") and token.dep_ in ("conj", "ROOT", "nsubj")):
        return "market"  # "prices rallied", "... and demand dipping" (a noun the parser took for a verb)
    if rule.event == "ASSAULT" and lemma in ("injure", "hurt", "wound", "break") and any(
            o.lemma_.lower() in s.body_parts and (_children(o, "poss") or o.dep_ == "nsubjpass") for o in objects):
        return "self_injury"
    violent = bool(words & s.violence_cues)
    victim = any(o.lemma_.lower() in s.victims or o.ent_type_ == "PERSON" and domain not in ("sport", "culture")
                 for o in objects + _children(token, "nsubjpass"))
    if lemma in s.competition_lemmas and not violent and not victim:
        competing = domain in ("sport", "culture") or bool(words & s.competition_words) or bool(_SCORE.search(sent.text))
        if competing:
            return "competition"
    everyday = domain in DOMAINS
    if everyday and rule.event in s.domain_cue_events and not violent and not victim:
        return "everyday_domain"
    if rule.event == "ASSAULT" and rule.pos == "V" and lemma in s.target_verbs and not objects and not (
            _children(token, "nsubjpass", "prep", "agent")) and token.dep_ not in ("relcl", "acl"):
        return "no_target"
    if everyday and rule.event in s.work_events:
        around = objects + _children(token, "nsubj", "nsubjpass") + [
            p for prep in _children(token, "prep") for p in _children(prep, "pobj")]
        if any(a.lemma_.lower() in s.work_nouns or a.ent_type_ in ("WORK_OF_ART", "PRODUCT", "EVENT") for a in around):
            return "about_a_work"
    if lemma == "clash" and not violent:
        partners = [p for prep in _children(token, "prep") if prep.lower_ == "with" for p in _children(prep, "pobj")]
        if partners and all(p.lemma_.lower() in s.verbal_clash_partners or p.ent_type_ in ("ORG", "WORK_OF_ART", "PERSON")
                            for p in partners):
            return "disagreement"
    if domain == "culture" and words & s.fiction_words and rule.event in ("ASSAULT", "COERCE", "THREATEN", "MOBILIZE"):
        return "fiction"
    if rule.event == "CONSULT" and rule.pos == "V":
        others = objects + [p for prep in _children(token, "prep") for p in _children(prep, "pobj")]
        if any(o.lemma_.lower() in s.personal_nouns for o in others) or subject_lemmas & s.first_person:
            return "personal"
    if rule.event == "REQUEST" and lemma == "ask":
        asks_whether = any(c.dep_ == "ccomp" and any(m.dep_ in ("mark", "advmod", "nsubj", "dobj") and m.lower_ in
                                                     ("whether", "if", "how", "what", "why", "who", "when")
                                                     for m in c.children) for c in token.children)
        asked_about = any(p.lower_ == "about" for p in _children(token, "prep"))
        if asks_whether or asked_about:
            return "question"  # "asked whether he would", "when asked about the deal"; "asked to leave" is a request
    if rule.event in s.technical_events:
        around = objects + subjects + [p for prep in _children(token, "prep") for p in _children(prep, "pobj")]
        around += [p for a in list(around) for prep in _children(a, "prep") if prep.lower_ == "of"
                   for p in _children(prep, "pobj")]  # "all of the same operations"
        if any(a.lemma_.lower() in s.technical_words or a.lower_ in s.technical_words or a.ent_type_ == "PRODUCT"
               for a in around):
            return "technical"
    if rule.pos == "V" and lemma in s.agree_lemmas and not _agreed_to(token, s):
        return "opinion"
    if rule.pos == "V" and lemma in s.discuss_lemmas and not _has_partner(token, s):
        return "no_partner"
    if rule.pos == "N" and lemma in s.threat_nouns and not _threatener(token, s):
        return "assessment"
    if rule.event in ("SUPPORT", "CONSULT", "REQUEST", "AGREE", "REJECT", "ACCUSE") and rule.pos == "V":
        inherited = token.dep_ in ("xcomp", "conj", "advcl", "pcomp", "relcl", "acl")
        if not subjects and not objects and not inherited and not _children(token, "prep", "agent", "ccomp", "xcomp"):
            return "no_participant"
    return None


def _agreed_to(token: Any, s: Senses) -> bool:
    """Does "agree" have something agreed to ("agreed to withdraw", "agreed a deal", "agreed on a
    ceasefire", "agreed that they would ...")?"""
    for c in token.children:
        if c.dep_ in ("xcomp", "dobj", "obj"):
            return True
        if c.dep_ == "prep" and c.lower_ in s.agree_preps:
            return True
        if c.dep_ == "ccomp" and any(a.dep_ == "aux" and a.lower_ in ("will", "would", "shall", "should", "'ll", "to")
                                     for a in c.children):
            return True
    return token.dep_ in ("relcl", "acl") or any(c.dep_ == "nsubjpass" for c in token.children)  # "the deal agreed"


def _has_partner(token: Any, s: Senses) -> bool:
    """A consultation partner: "with X", a plural, joined or collective subject."""
    if partner_of(token, ("with", "between", "among")) is not None:
        return True
    subject = subject_of(token)
    if subject is None:
        return token.dep_ in ("xcomp", "advcl", "relcl", "acl", "pcomp")  # "met ... to discuss" has its partner upstairs
    if subject.tag_ in ("NNS", "NNPS") or subject.lower_ in ("they", "we", "them", "us"):
        return True
    return bool(_children(subject, "conj")) or subject.lemma_.lower() in s.collective_subjects or subject.ent_type_ in (
        "ORG", "GPE", "NORP")


def _threatener(token: Any, s: Senses) -> bool:
    """Does the threat noun say whose threat it is?"""
    if _children(token, "poss", "compound", "nmod") or any(a.ent_type_ in ("NORP", "GPE", "ORG")
                                                            for a in _children(token, "amod")):
        return True  # "Iran's threat", "death threats", "Russian threats" (not "a growing threat")
    if any(prep.lower_ in ("from", "by") for prep in _children(token, "prep", "agent")):
        return True
    head = token.head.head if token.dep_ == "pobj" else token.head
    return token.dep_ in ("dobj", "pobj", "nsubjpass") and head.lemma_.lower() in s.threat_verbs


def needs_an_agent(event_type: str, actor_is_agent: bool, passive_or_noun: bool = False,
                   participant_is_agent: bool = False) -> Optional[str]:
    """``no_actor`` when an event of ``senses.yaml``'s ``agent_events`` has nobody who can act in it,
    else None. A passive verb or an event noun needs no actor of its own when another participant
    can act ("he was accused of ...", "talks with Ukrainian officials", "criticism from the opposition")."""
    if event_type not in senses().agent_events or actor_is_agent:
        return None
    if passive_or_noun and participant_is_agent:
        return None
    return "no_actor"
