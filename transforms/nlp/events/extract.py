"""Event extraction in PLOVER: who did what to whom, where and when.

The approach is PETRARCH's, on a modern parser: a trigger lexicon (lemma + part of speech, with
conditions on the trigger's objects and particles; :mod:`transforms.nlp.events.lexicon`) proposes
an event type and mode; the dependency parse gives actor and recipient, and negation, modality and
embedding give the negated / hypothetical / future flags (:mod:`~transforms.nlp.events.syntax`);
the sentence's (or the discourse's) temporal expression gives the date, resolved against the
publication date, and places come from the entities in the sentence, geocoded offline
(:mod:`~transforms.nlp.events.context`). Pure functions over spaCy ``Span`` objects: no Beam here.

Reported speech ("said", "told") is never a trigger by itself: only what is reported is coded.
"""
from __future__ import annotations

import hashlib
from typing import Any, Dict, Iterable, List, Tuple

from transforms.nlp.actors.countries import alpha3
from transforms.nlp.events import confidence as calibrated
from transforms.nlp.events.actors import resolve_argument
from transforms.nlp.events.context import (
    ArticleContext,
    advance_date,
    event_date,
    is_modifier_or_actor,
    locate,
    new_paragraph,
)
from transforms.nlp.events.lexicon import QUAD_CLASS
from transforms.nlp.events.senses import needs_an_agent, not_an_event, violence_cue
from transforms.nlp.events.syntax import COLLECTIVE_NOUNS, arguments, flags, match_rule, mode_of, riot_rule
from transforms.nlp.temporal import find_date_expressions

__all__ = ["extract_events", "event_id"]


def event_id(article_id: str, start: int, event_type: str) -> str:
    return hashlib.sha256(f"{article_id}|{start}|{event_type}".encode()).hexdigest()[:24]


_NO_LOCAL_COUNTRY = ("igo", "ngo")


def _passive_or_noun(token) -> bool:
    return token.pos_ in ("NOUN", "PROPN") or any(c.dep_ in ("nsubjpass", "auxpass") for c in token.children)


def _agent_among_preps(token, sent, offset, ctx) -> bool:
    """Does a prepositional object of the trigger name someone who can act ("talks *with Ukrainian
    officials*", "criticism *from the Syrian opposition*", "cooperation *between Russia and North Korea*")?"""
    for prep in token.children:
        if prep.dep_ in ("prep", "agent"):
            for pobj in prep.children:
                if pobj.dep_ == "pobj" and resolve_argument(pobj, sent, offset, ctx).agent:
                    return True
    return any(c.dep_ == "poss" and resolve_argument(c, sent, offset, ctx).agent for c in token.children)


def _country(argument, where):
    """The argument's own country, else, for a group of a known sector or an organisation (not an
    IGO or NGO), the country where the event happened ("the police" of a Kenyan town are Kenya's);
    a person without a country of their own stays without one (a Mexican citizen arrested in New
    York is not thereby American)."""
    if argument.surface is None or argument.country is not None:
        return argument.country
    if argument.sector in _NO_LOCAL_COUNTRY or (argument.sector is None and argument.label != "ORG"):
        return None
    return where


def extract_events(sentences: Iterable[Tuple[Any, int]], ctx: ArticleContext) -> List[Dict[str, Any]]:
    """Events of one article.

    ``sentences`` are ``(span, offset)`` pairs in article order, where ``span`` is a parsed spaCy
    sentence (a ``Span`` or a ``Doc``) and ``offset`` maps its character offsets to the article's
    (``article_offset = span_offset + offset``). Sentences that were not parsed because they hold
    no trigger word may be left out; pass them with ``span=None`` and a ``text`` via a tuple
    ``(text, offset)`` so that the discourse date still advances (see :func:`advance_date`).
    Returns rows of the ``events`` table.
    """
    events: List[Dict[str, Any]] = []
    seen = set()
    doc_ents: Dict[int, Tuple[Any, List[Any]]] = {}
    for index, (sent, offset) in enumerate(sentences):
        ctx.sentence_index = index
        start = offset if isinstance(sent, str) else (sent[0].idx + offset if len(sent) else offset)
        new_paragraph(ctx, start)
        if isinstance(sent, str):
            advance_date(sent, ctx)
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
        modifiers = frozenset(ent.start_char + offset for ent in ents if is_modifier_or_actor(ent.root))
        for token in sent:
            rule = match_rule(token)
            if rule is None or not_an_event(token, rule, ctx.domain) is not None:
                continue
            negated, hypothetical, future = flags(token)
            actor_tok, recipient_tok = arguments(token, rule)
            rule = riot_rule(rule, actor_tok)
            violent = QUAD_CLASS[rule.event] == "material_conflict"
            actor = resolve_argument(actor_tok, sent, offset, ctx, "actor", violent)
            recipient = resolve_argument(recipient_tok, sent, offset, ctx, "recipient", violent)
            if not actor.agent and needs_an_agent(
                    rule.event, actor.agent, _passive_or_noun(token),
                    recipient.agent or _agent_among_preps(token, sent, offset, ctx)) is not None:
                continue
            key = (sent_start, rule.event, mode_of(rule, token), recipient.canonical or recipient.surface)
            if key in seen:
                continue
            seen.add(key)
            if actor_tok is not None and actor.surface and actor_tok.pos_ != "PRON" and (
                    actor_tok.tag_ in ("NNS", "NNPS") or actor_tok.lemma_.lower() in COLLECTIVE_NOUNS):
                ctx.last_plural_actor, ctx.last_plural_sentence = actor, index
            trig_start = token.idx + offset
            date_value, date_text = event_date(token, sentence_dates, ctx, future)
            place, point, place_source = locate(sent_start, sent_end, ctx, modifiers)
            where = alpha3(point.country_code) if point is not None else None
            events.append({
                "event_id": event_id(ctx.article_id, trig_start, rule.event),
                "article_id": ctx.article_id,
                "event_type": rule.event,
                "mode": mode_of(rule, token),
                "quad_class": QUAD_CLASS[rule.event],
                "trigger": token.text,
                "trigger_start": trig_start,
                "trigger_end": trig_start + len(token.text),
                "actor": actor.surface, "actor_canonical": actor.canonical, "actor_entity_id": actor.entity_id,
                "actor_country": _country(actor, where), "actor_sector": actor.sector,
                "recipient": recipient.surface, "recipient_canonical": recipient.canonical,
                "recipient_entity_id": recipient.entity_id,
                "recipient_country": _country(recipient, where), "recipient_sector": recipient.sector,
                "location": place,
                "country_code": point.country_code if point else None,
                "admin1": point.admin1 if point else None,
                "latitude": point.latitude if point else None,
                "longitude": point.longitude if point else None,
                "location_precision": point.precision if point else None,
                "location_source": place_source,
                "event_date": date_value,
                "date_text": date_text,
                "sentence": sent_text,
                "sentence_start": sent_start,
                "sentence_end": sent_end,
                "negated": negated,
                "hypothetical": hypothetical,
                "future": future,
                "confidence": calibrated.score(calibrated.features(
                    weight=rule.weight, verb=rule.pos == "V", actor=actor.surface, recipient=recipient.surface,
                    actor_entity=actor.entity_id, recipient_entity=recipient.entity_id,
                    flagged=negated or hypothetical or future, domain=ctx.domain, violence_cue=violence_cue(sent),
                    quad_class=QUAD_CLASS[rule.event], sentence=sent_text, event_type=rule.event,
                    dated_in_sentence=bool(sentence_dates), placed_in_sentence=place_source == "sentence")),
                "run_id": ctx.run_id,
                "dt": ctx.dt,
            })
        advance_date(sent_text, ctx, sentence_dates)
        ctx.last_start, ctx.last_end = sent_start, sent_end
    return events
