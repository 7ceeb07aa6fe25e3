"""Syntax of one trigger in a dependency parse: which lexicon rule it matches, its PLOVER mode, its
actor and recipient tokens, and whether it is negated, hypothetical or future. Pure functions over
spaCy tokens."""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Tuple

from transforms.nlp.actors.sectors import is_agent_noun, sector_of_words
from transforms.nlp.events.lexicon import Rule, lexicon, rules_for

__all__ = ["flags", "noun_phrase", "subject_of", "children_with", "arguments", "partner_of",
           "match_rule", "mode_of", "riot_rule",
           "of_phrase_noun",
           "PRONOUNS_PLURAL", "PRONOUNS_PERSON", "PLACE_NOUNS", "COLLECTIVE_NOUNS"]

_NEGATIONS = {"not", "n't", "never", "no"}
_ARMED_SECTORS = {"police", "military", "rebels", "criminals", "government"}
_MODALS = {"could", "would", "might", "may", "should", "must", "can", "ca"}
_FUTURE_AUX = {"will", "shall", "'ll", "wo"}
_HYPOTHETICAL_HEADS = {"threaten", "plan", "want", "intend", "seek", "aim", "hope", "prepare", "consider", "propose",
                       "vow", "promise", "pledge", "warn", "urge", "demand", "call", "ask", "refuse", "fail", "decline",
                       "attempt", "expect", "wish", "need", "order", "push", "press", "plot", "scheme", "conspire",
                       "offer", "agree", "decide", "ready", "willing", "prepared", "able", "eager", "keen"}
_NEGATING_HEADS = {"refuse", "fail", "decline", "deny"}
_FUTURE_HEADS = {"plan", "schedule", "set", "expect", "intend", "prepare", "due"}
# An event noun governed by one of these verbs has not happened (yet): "called for an embargo", "to plan
# Alinejad's murder", "advancing a ceasefire", "foiled an attack", "an appeal against deportation".
_IRREALIS_NOUN_HEADS = {"plan", "prepare", "discuss", "advance", "propose", "seek", "demand", "urge",
                        "consider", "prevent", "avoid", "threaten", "appeal", "push", "debate", "fear", "foil",
                        "thwart", "risk", "plot", "request", "approve", "negotiate", "want", "oppose", "expect",
                        "predict", "warn", "press", "lobby"}
# ... and so does one that an infinitive of carrying out governs: "bombs to carry out attacks" (but "to
# monitor the rally", "to stop the attacks", "to reach the agreement" speak of events that happen).
_EXECUTION_VERBS = {"carry", "conduct", "launch", "mount", "commit", "perpetrate", "execute"}
# An infinitive that modifies one of these nouns has not happened: "charged with attempt to murder",
# "the right of troops to fire", "a plan to attack" (but "Israel's decision to ban" has).
_IRREALIS_ACL_NOUNS = {"attempt", "plan", "plot", "bid", "effort", "threat", "call", "demand", "proposal", "right",
                       "ability", "need", "chance", "way", "offer", "promise", "pledge", "request", "intention",
                       "readiness", "willingness", "push", "campaign", "conspiracy", "scheme", "order", "option",
                       "power", "freedom", "time", "opportunity", "attempts", "efforts", "plans", "threats"}
_ARG_PREPS = {"at", "on", "upon", "against", "into", "with", "to", "of"}
_RECIPIENT_PREPS = {
    **{t: {"at", "on", "upon", "against", "into"} for t in ("ASSAULT", "COERCE", "SANCTION", "THREATEN", "ACCUSE", "REJECT")},
    **{t: {"with"} for t in ("CONSULT", "COOPERATE", "AGREE")},
    "REQUEST": {"on", "upon", "to"}, "AID": {"to"}, "SUPPORT": {"for"}, "RETREAT": {"from"}, "CONCEDE": {"to"},
}
PRONOUNS_PLURAL = {"they", "them", "we", "us"}
PRONOUNS_PERSON = {"he", "him", "she", "her"}
PLACE_NOUNS = {"neighborhood", "neighbourhood", "district", "area", "city", "town", "region", "province", "state",
                "village", "suburb", "borough", "county", "capital", "quarter", "camp", "border", "coast", "island",
                # landscape words a place names ("Iraq's Anbar desert", "the Kandahar countryside")
                "desert", "countryside", "outskirts", "mountain", "mountains", "valley", "highlands", "hills", "forest",
                "jungle", "delta", "peninsula", "enclave", "territory", "governorate", "municipality", "prefecture",
                "oblast", "frontier", "port", "harbor", "harbour", "waters", "zone"}
COLLECTIVE_NOUNS = {"police", "government", "army", "military", "administration", "authority", "force", "regime",
               "council", "parliament", "committee", "court", "ministry", "agency", "navy", "coalition"}


def _has_neg(token) -> bool:
    return any(c.dep_ == "neg" or c.lower_ in _NEGATIONS and c.dep_ in ("advmod", "neg", "det") for c in token.children)


def _aux(token) -> List[str]:
    return [c.lower_ for c in token.children if c.dep_ in ("aux", "auxpass")]


def _inherit(token) -> Tuple[bool, bool]:
    """(hypothetical, future) from a head's own auxiliaries."""
    token_aux = _aux(token)
    return any(a in _MODALS for a in token_aux), any(a in _FUTURE_AUX for a in token_aux)


def _infinitive(token) -> bool:
    return any(c.dep_ == "aux" and c.lower_ == "to" for c in token.children)


def flags(trigger) -> Tuple[bool, bool, bool]:
    """(negated, hypothetical, future) from the trigger's own auxiliaries and the chain of
    heads it is embedded under (xcomp/ccomp/advcl), up to the sentence root.

    An event noun is followed to the verb that governs it: a verb of planning or asking makes it
    hypothetical ("called for an embargo", ``_IRREALIS_NOUN_HEADS``), an infinitive too ("bombs to carry
    out attacks", "attempt to murder"), and otherwise the verb's own modality is the noun's ("Ice could
    order the deportation", "he would be ready to host a meeting")."""
    negated = _has_neg(trigger)
    aux = _aux(trigger)
    hypothetical = any(a in _MODALS for a in aux)
    future = any(a in _FUTURE_AUX for a in aux) or ("going" in aux and "to" in aux)
    if any(c.dep_ == "mark" and c.lower_ in ("if", "unless", "whether") for c in trigger.children):
        hypothetical = True
    if any(c.dep_ == "advmod" and c.lower_ in ("almost", "nearly") for c in trigger.children):
        hypothetical = True  # "was almost gunned down": it did not happen (but "nearly 100 were killed" did)
    token = trigger
    if trigger.pos_ in ("NOUN", "PROPN") and trigger.dep_ in ("dobj", "pobj", "nsubjpass", "attr"):
        verb = trigger.head
        if trigger.dep_ == "pobj" and verb.dep_ in ("prep", "agent") and verb.head.i != verb.i:
            verb = verb.head
        if verb.pos_ in ("VERB", "AUX") and verb.i != trigger.i:
            calls_for = verb.lemma_ == "call" and trigger.head.lower_ == "for"  # not "called the explosion an attack"
            carried_out = _infinitive(verb) and verb.lemma_ in _EXECUTION_VERBS
            if calls_for or carried_out or verb.lemma_.lower() in _IRREALIS_NOUN_HEADS:
                hypothetical = True
            if trigger.dep_ != "pobj":  # "how Duterte will react to Suga's visit": the visit happened
                negated = negated or _has_neg(verb)
                h, f = _inherit(verb)
                hypothetical, future = hypothetical or h, future or f
                token = verb  # and on up the verb's own chain
    if token.dep_ == "acl" and token.pos_ in ("VERB", "AUX") and _infinitive(token) \
            and token.head.lemma_.lower() in _IRREALIS_ACL_NOUNS:
        hypothetical = True
    steps = 0
    while token.dep_ in ("xcomp", "ccomp", "advcl", "conj", "pcomp", "acl", "relcl", "dobj", "pobj", "prep", "acomp") \
            and token.head.i != token.i and steps < 6:
        child, token = token, token.head
        steps += 1
        lemma = token.lemma_.lower()
        if child.dep_ == "xcomp" and lemma == "have" and token.tag_ != "VBD" and _infinitive(child):
            hypothetical = True  # "we have to support ..." (an obligation; "had to flee" did happen)
        if child.dep_ in ("xcomp",) and lemma in _HYPOTHETICAL_HEADS:
            hypothetical = True
            negated = negated or lemma in _NEGATING_HEADS
        if child.dep_ == "xcomp" and (lemma in _FUTURE_HEADS or lemma == "go" and token.tag_ == "VBG"):
            future = True  # "plans to", "I'm going to comply"
        if child.dep_ in ("xcomp", "advcl") and child.i > token.i and _infinitive(child) and token.lemma_ == "be":
            hypothetical = True  # "we are here to arrest you": purpose, not an event
        if child.dep_ in ("xcomp", "conj", "acomp") or (child.dep_ == "advcl" and _infinitive(child)):
            # "will meet ... to discuss": a purpose clause shares its verb's modality
            negated = negated or (_has_neg(token) and child.dep_ in ("xcomp", "acomp"))
            h, f = _inherit(token)
            hypothetical, future = hypothetical or h, future or f
        if child.dep_ in ("dobj", "nsubjpass", "nsubj") and child.pos_ in ("NOUN", "PROPN"):
            negated = negated or _has_neg(token)
            h, f = _inherit(token)
            hypothetical, future = hypothetical or h, future or f
        if child.dep_ in ("conj", "acomp"):
            continue
        if child.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ in ("after", "before", "when", "once",
                                                                          "until", "if", "unless")
                                         for c in child.children):
            h, f = _inherit(token)
            hypothetical, future = hypothetical or h, future or f
        if child.dep_ in ("ccomp", "advcl", "relcl", "acl", "pobj", "prep", "pcomp", "dobj"):
            break
    return negated, hypothetical, future


def noun_phrase(token) -> Tuple[int, int]:
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


def subject_of(verb, depth: int = 0):
    """The subject of ``verb``, inherited through xcomp/conj/advcl/pcomp chains ("tried to deport",
    "before attacking")."""
    for c in verb.children:
        if c.dep_ in ("nsubj", "csubj"):
            return c
    if depth < 4 and verb.dep_ in ("xcomp", "conj", "pcomp", "advcl") and verb.head.i != verb.i:
        head = verb.head
        if head.dep_ == "prep" and head.head.i != head.i:
            head = head.head
        return subject_of(head, depth + 1)
    return None


def children_with(token, *deps):
    return [c for c in token.children if c.dep_ in deps]


def partner_of(trigger, preps=("with",)):
    """The object of "with" (or of one of ``preps``) on the trigger or on its direct object, where the
    parser may hang it ("discussed trade with Xi"), or None."""
    heads = [trigger] + children_with(trigger, "dobj", "dative", "obj")
    return next((p for head in heads for prep in children_with(head, "prep") if prep.lower_ in preps
                 for p in children_with(prep, "pobj")), None)


def arguments(trigger, rule: Rule):
    """(actor token, recipient token) from the dependency tree."""
    actor = recipient = None
    if rule.pos == "V":
        passive = any(c.dep_ in ("nsubjpass", "auxpass") for c in trigger.children)
        if passive:
            subj = children_with(trigger, "nsubjpass")
            recipient = subj[0] if subj else None
            for agent in children_with(trigger, "agent"):
                pobj = children_with(agent, "pobj")
                actor = pobj[0] if pobj else None
            if recipient is None and trigger.dep_ in ("acl", "relcl") and trigger.head.i != trigger.i:
                recipient = trigger.head
        else:
            actor = subject_of(trigger)
            objs = children_with(trigger, "dobj", "dative", "obj")
            recipient = objs[0] if objs else None
            if (actor is not None and recipient is None and trigger.tag_ == "VBN"
                    and trigger.dep_ in ("conj", "advcl", "acl", "xcomp")
                    and not any(c.dep_ in ("nsubj", "aux") for c in trigger.children)):
                # A reduced passive: "the leader is dead, killed in a raid" - the inherited subject
                # is the one killed, not the killer.
                actor, recipient = None, actor
            if rule.event in ("CONSULT", "COOPERATE", "AGREE"):
                # the partner is who it is "with", not the topic: "discussed trade with Xi" (the parser
                # may hang "with" on the object)
                recipient = partner_of(trigger) or recipient
            if rule.event in ("PROTEST", "MOBILIZE"):
                recipient = next((p for prep in children_with(trigger, "prep") if prep.lower_ == "against"
                                  for p in children_with(prep, "pobj")), None)
            elif recipient is None:
                allowed = _RECIPIENT_PREPS.get(rule.event, _ARG_PREPS)
                for prep in children_with(trigger, "prep"):
                    if prep.lower_ in allowed:
                        pobj = children_with(prep, "pobj")
                        if pobj:
                            recipient = pobj[0]
                            break
        if rule.event in ("ASSAULT",) and recipient is not None and recipient.lemma_.lower() in (
                "shot", "round", "bullet", "shell", "missile", "rocket", "gas"):
            recipient = None
            for prep in children_with(trigger, "prep"):
                pobj = children_with(prep, "pobj")
                if pobj and prep.lower_ in ("at", "on", "into", "through"):
                    recipient = pobj[0]
    else:
        for c in trigger.children:
            if c.dep_ == "poss":
                actor = c
            elif c.dep_ in ("amod", "compound") and c.ent_type_ in ("NORP", "GPE", "ORG"):
                actor = actor or c
            elif c.dep_ == "prep":
                pobj = children_with(c, "pobj")
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
                actor = subject_of(verb)  # "the US imposed sanctions": light verb + event noun
            elif trigger.dep_ == "nsubj" and recipient is None and verb.lemma_.lower() not in _LIGHT_VERBS:
                objs = children_with(verb, "dobj", "obj")
                recipient = objs[0] if objs else None  # "an airstrike hit a hospital"
            elif trigger.dep_ == "nsubjpass" and actor is None:
                for agent in children_with(verb, "agent"):
                    pobj = children_with(agent, "pobj")
                    actor = pobj[0] if pobj else None
    recipient = _resolve_relative(recipient, trigger)
    actor = _resolve_relative(actor, trigger)
    if actor is not None and actor.lemma_.lower() in _INSTRUMENTS:
        owner = children_with(actor, "poss")  # "an officer's weapon went off and shot ...": the officer
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
                   "landslide", "avalanche", "derailment", "overdose", "disease", "illness", "cancer", "heatwave",
                   "disaster", "crush", "stampede", "collapse", "blaze", "wildfire"}


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


def _purpose(token, lemmas) -> bool:
    """Does ``token`` (or, for a noun, its governing verb) have a purpose clause "to <lemma>" /
    "demanding ..." with one of ``lemmas`` ("gathered outside the town hall to demand ...")?"""
    holders = [token] + ([token.head] if token.pos_ in ("NOUN", "PROPN") and token.head.i != token.i else [])
    for holder in holders:
        for c in holder.children:
            if c.dep_ in ("xcomp", "advcl", "acl", "relcl") and c.lemma_.lower() in lemmas:
                return True
    return False


_QUANTIFIERS = frozenset("two three four five six seven eight nine ten some many several one dozens hundreds "
                         "thousands millions tens most all none members group number".split())


def of_phrase_noun(token):
    """The noun of "two of his officers", "tens of thousands of protesters", "members of the union";
    None for other phrases."""
    for _ in range(3):
        if not (token.pos_ == "NUM" or token.lower_ in _QUANTIFIERS):
            return None
        inner = next((o for prep in token.children if prep.dep_ == "prep" and prep.lower_ == "of"
                      for o in prep.children if o.dep_ == "pobj"), None)
        if inner is None:
            return None
        if not (inner.pos_ == "NUM" or inner.lower_ in _QUANTIFIERS):
            return inner
        token = inner
    return None


_PEOPLE_PRONOUNS = frozenset("he she they him her them we us".split())


def _is_people(token) -> bool:
    """Is an object people: a person or nationality entity, a pronoun for people, or a noun that can act
    (``sectors.yaml``: "prisoners", "hostages", "activists", "five of them")?"""
    token = of_phrase_noun(token) or token
    return token.ent_type_ in ("PERSON", "NORP") or token.lower_ in _PEOPLE_PRONOUNS or is_agent_noun(token.lemma_)


def riot_rule(rule: Rule, actor) -> Rule:
    """Violence by protesters is a PROTEST (riot) in PLOVER: an ASSAULT whose actor is one of the
    lexicon's ``riot_actors`` ("rioters set fire to buses", "tens of thousands of protesters stormed
    the residence", "supporters of X clashed with police")."""
    if rule.event != "ASSAULT" or actor is None:
        return rule
    actor = of_phrase_noun(actor) or actor
    lemma = actor.lemma_.lower()
    if lemma not in lexicon().riot_actors:
        # other civilians (farmers, students, depositors) riot when the sentence speaks of protest
        sector = sector_of_words(lemma, [c.lemma_.lower() for c in actor.children if c.dep_ in ("amod", "compound")])
        civilian = actor.pos_ == "NOUN" and sector is not None and sector not in _ARMED_SECTORS  # not "gunmen"
        words = {t.lemma_.lower() for t in actor.sent} | {t.lower_ for t in actor.sent}
        if not (civilian and words & lexicon().riot_cues):
            return rule
    return dataclasses.replace(rule, event="PROTEST", mode="riot", modifier_modes=())


def _commitment(clause) -> bool:
    """Is ``clause`` a ccomp that commits someone to act: a modal or future verb whose subject can act
    ("warned that it would retaliate"), not a forecast ("warns that all hazards will be possible")?"""
    if clause.dep_ != "ccomp" or not any(a.lower_ in _MODALS | _FUTURE_AUX for a in clause.children if a.dep_ == "aux"):
        return False
    subject = next((c for c in clause.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if subject is None:
        return False
    if subject.pos_ == "PRON":
        return subject.lower_ not in ("this", "that", "there", "what", "which")
    return subject.ent_type_ in ("PERSON", "ORG", "GPE", "NORP") or is_agent_noun(subject.lemma_)


def match_rule(token) -> Optional[Rule]:
    lemma = token.lemma_.lower()
    pos = "V" if token.pos_ in ("VERB", "AUX") else "N" if token.pos_ in ("NOUN", "PROPN") else None
    if pos is None:
        return None
    if token.dep_ in ("compound", "amod", "acomp"):
        head_lemma = token.head.lemma_.lower()
        # "the shooting victim", "life threatening": a modifier, not an event mention; but "a protest camp"
        return next((r for r in rules_for(lemma) if r.pos == pos and head_lemma in r.compound_heads
                     and token.dep_ == "compound"), None)
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
    particles = {c.lower_ for c in token.children if c.dep_ == "prt"}
    for rule in rules_for(lemma):
        if rule.pos != pos or rule.compound_heads:
            continue
        if rule.objects:
            pool = objects | mods if pos == "V" else mods | {head_lemma}
            if pos == "V":
                pool |= {c.lemma_.lower() for o in token.children if o.dep_ in ("dobj", "nsubjpass")
                         for c in o.children if c.dep_ in ("compound", "amod")}
            if not (pool & set(rule.objects)):
                continue
        if rule.not_objects:
            deep = {t.lemma_.lower() for c in token.children if c.dep_ in ("dobj", "obj", "nsubjpass", "attr", "acomp", "oprd")
                    for t in c.subtree}
            if pos == "N":
                # "panic attacks", "his line of attack"
                deep |= mods
                if token.dep_ == "pobj" and token.head.lower_ == "of" and token.head.head.pos_ == "NOUN":
                    deep.add(token.head.head.lemma_.lower())
            if deep & set(rule.not_objects):
                continue
        if rule.not_subjects and {c.lemma_.lower() for c in token.children if c.dep_ == "nsubj"} & set(rule.not_subjects):
            continue
        if rule.subjects:
            subject = subject_of(token) if pos == "V" else None
            if subject is None or subject.lemma_.lower() not in rule.subjects:
                continue
        if rule.purposes and not _purpose(token, rule.purposes):
            continue
        if rule.human_objects and not any(_is_people(c) for c in token.children if c.dep_ in ("dobj", "obj", "nsubjpass")):
            continue
        if rule.prep_objects and not any(o.lemma_.lower() in rule.prep_objects for c in token.children
                                         if c.dep_ == "prep" for o in c.children if o.dep_ == "pobj"):
            continue
        if rule.preps:
            # the preposition must follow the verb and not introduce a date ("On Friday, X called ...")
            good = {c.lower_ for c in token.children if c.dep_ in ("prep", "agent", "dative") and c.i > token.i
                    and not any(g.ent_type_ in ("DATE", "TIME") for g in c.children)}
            if not (good & set(rule.preps)):
                continue
        if rule.needs_xcomp and not any(c.dep_ == "xcomp" or _commitment(c) for c in token.children):
            continue
        if rule.event == "ASSAULT" and rule.lemma in _ACCIDENT_PRONE and _accidental(token):
            continue
        if rule.particle and rule.particle not in particles:
            continue
        return rule
    return None


def mode_of(rule: Rule, trigger) -> Optional[str]:
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
