"""Stories core (transforms.stories): tone, copies, profiles and the incremental clustering."""
from __future__ import annotations

import datetime as _dt
import json
import random

import pytest

from tests.conftest import CORPORA
from transforms.nlp.places.geocode import distance_km
from transforms.stories.assign import Settings, Story, StoryClusterer, story_id_of
from transforms.stories.copies import COPY_JACCARD, copies_in, from_bytes, shingles, signature, similarity, to_bytes
from transforms.stories.profile import article_profile
from transforms.stories.terms import document_frequencies, term_vector, words
from transforms.stories.tone import tone

VOA = CORPORA / "voa" / "voa_stories.jsonl"
DAY = _dt.date(2024, 3, 5)


def _voa(n: int = 12):
    if not VOA.exists():
        pytest.skip("shared/corpora/voa not present")
    return [json.loads(line) for line in VOA.read_text(encoding="utf-8").splitlines()[:n]]


def _article(article_id: str, text: str, *, title: str = "", day: _dt.date = DAY, source: str = "example.org",
             hour: int = 12):
    return {"article_id": article_id, "text": text, "title": title, "source": source,
            "published_at": _dt.datetime.combine(day, _dt.time(hour), tzinfo=_dt.timezone.utc), "dt": day}


def _event(lat: float, lon: float, **extra):
    return {"event_type": "ASSAULT", "actor": "a gunman", "latitude": lat, "longitude": lon,
            "location_precision": "city", "location": "X", "negated": False, "hypothetical": False,
            "future": False, **extra}


# ---------------------------------------------------------------- tone

def test_tone_is_negative_for_violence_positive_for_praise_and_none_without_words():
    assert tone("Police shot and killed a man. Several protesters were injured.") < -0.3
    assert tone("The festival was a wonderful success. Fans loved it!") > 0.3
    assert tone("") is None and tone("... 123 !!!") is None
    assert -1.0 <= tone("Terrible, awful, horrible disaster. " * 300) <= 1.0


# ---------------------------------------------------------------- copies

def test_signatures_round_trip_and_are_deterministic():
    text = _voa(1)[0]["text"]
    sig = signature(text)
    assert sig is not None and len(sig) == 128
    assert (from_bytes(to_bytes(sig)) == sig).all()
    assert (signature(text) == sig).all()  # same seed and scheme in every process and run
    assert signature("too short to sign") is None and shingles("a b c") == []


def test_signatures_are_datasketch_minhash_bit_for_bit():
    from datasketch import MinHash

    for story in _voa(5):
        m = MinHash(num_perm=128, seed=1, scheme="affine32")
        m.update_batch(shingles(story["text"]))
        assert (signature(story["text"]) == m.hashvalues.astype("uint32")).all()


def test_copies_are_linked_to_their_original_and_distinct_stories_never_are():
    stories = _voa(12)
    rng = random.Random(3)
    stream = [(f"o{i}", s["text"]) for i, s in enumerate(stories)]
    for i, s in enumerate(stories):
        sentences = s["text"].split(". ")
        stream.append((f"trim{i}", ". ".join(sentences[:-2])))
        shuffled = sentences[:]
        rng.shuffle(shuffled)
        stream.append((f"shuf{i}", ". ".join(shuffled)))
        stream.append((f"rel{i}", s["text"] + "\n\nRelated: more news from the region."))
    found = copies_in(stream)
    for i in range(len(stories)):
        assert found[f"o{i}"] is None
        assert found[f"trim{i}"] == found[f"shuf{i}"] == found[f"rel{i}"] == f"o{i}"
    # a copy of a copy points at the first-seen text
    again = copies_in([("a", stories[0]["text"]), ("b", stories[0]["text"] + " Extra."), ("c", stories[0]["text"])])
    assert again == {"a": None, "b": "a", "c": "a"}
    assert max(similarity(signature(a["text"]), signature(b["text"]))
               for a in stories for b in stories if a is not b) < COPY_JACCARD - 0.15


# ---------------------------------------------------------------- terms and profiles

def test_term_weights_favour_rare_words_and_names():
    df = document_frequencies()
    assert df[""] > 300 and df.get("police", 0) > df.get("bensonhurst", 0)
    vec = term_vector("Police said police officers in Bensonhurst shot Erick Diaz.")
    assert vec["bensonhurst"] > vec["police"]
    assert "said" not in vec and "in" not in vec
    assert list(words("Reid's 6.1 quake")) == ["reid", "6.1", "quake"]


def test_profile_of_an_article_with_entities_and_events():
    art = _article("a1", "A gunman opened fire in Springfield. Officer Jane Roe said Jane Roe saw it.", title="Shooting")
    ents = [{"entity_id": "p1", "label": "PERSON"}, {"entity_id": "p1", "label": "PERSON"},
            {"entity_id": "g1", "label": "GPE"}, {"entity_id": "d1", "label": "DATE"}]
    evs = [_event(39.8, -89.6, event_date=DAY), _event(1.0, 1.0, hypothetical=True)]
    p = article_profile(art, ents, evs)
    assert p.day == DAY and p.salient == frozenset({"p1"}) and set(p.names) == {"p1", "g1"}
    assert p.places == ((39.8, -89.6),)  # the hypothetical event's place is not the incident's
    assert p.event_types == {"ASSAULT": 1} and p.event_days == frozenset({DAY})
    assert p.tone is not None and p.signature is None  # too short to sign
    no_date = article_profile({**art, "published_at": None, "dt": _dt.date(2024, 1, 2)})
    assert no_date.day == _dt.date(2024, 1, 2) and no_date.names == {}


# ---------------------------------------------------------------- clustering

_DETAILS = {
    "Springfield": ("outside a grocery store on Lincoln Avenue", "fled in a grey sedan", "a 34-year-old nurse",
                    "Chief Ken Scarlette", "the third shooting this year near the Capitol complex"),
    "Peoria": ("at a birthday party in a rented hall on Main Street", "was arrested two blocks away",
               "a retired bus driver", "Sheriff Chris Watkins", "a quarrel over a parking space, witnesses said"),
}
_WORDING = [
    "{victim}, {who}, was killed when a gunman opened fire {where} in {city}. The suspect {fled}. {chief} called it {what}.",
    "Police in {city} are investigating after {victim} was shot dead {where}. {chief} said the gunman {fled}; {what}.",
    "{city} mourns {victim}, {who}, shot {where}. According to {chief}, the attacker {fled}. It was {what}.",
]


def _shooting(i: int, city: str, lat: float, lon: float, day: _dt.date, victim: str, source: str):
    where, fled, who, chief, what = _DETAILS[city]
    text = " ".join([_WORDING[i % 3].format(victim=victim, who=who, where=where, city=city, fled=fled, chief=chief,
                                            what=what)] * 2)
    ents = ([{"entity_id": f"P:{victim}", "label": "PERSON"}] * 3 + [{"entity_id": f"G:{city}", "label": "GPE"}] * 3
            + [{"entity_id": f"P:{chief}", "label": "PERSON"}] * 2)
    return article_profile(_article(f"{city}-{i}", text, title=f"Shooting in {city}", day=day, source=source),
                           ents, [_event(lat, lon, event_date=day)])


def test_reports_of_one_incident_share_a_story_and_two_incidents_in_two_cities_do_not():
    day = DAY
    a = [_shooting(i, "Springfield", 39.80, -89.64, day, "John Smith", f"s{i}.com") for i in range(3)]
    b = [_shooting(i, "Peoria", 40.69, -89.59, day, "Mary Jones", f"t{i}.com") for i in range(3)]
    out = {x.article_id: x for x in StoryClusterer().add_all(a + b)}
    assert len({out[p.article_id].story_id for p in a}) == 1
    assert len({out[p.article_id].story_id for p in b}) == 1
    assert out[a[0].article_id].story_id != out[b[0].article_id].story_id
    assert out[min(p.article_id for p in a)].new_story


def test_a_story_takes_no_article_published_long_after_its_last_one():
    first = _shooting(0, "Springfield", 39.80, -89.64, DAY, "John Smith", "a.com")
    later = _shooting(1, "Springfield", 39.80, -89.64, DAY + _dt.timedelta(days=400), "John Smith", "b.com")
    soon = _shooting(2, "Springfield", 39.80, -89.64, DAY + _dt.timedelta(days=2), "John Smith", "c.com")
    out = StoryClusterer().add_all([first, later, soon])
    assert out[0].story_id == out[1].story_id != out[2].story_id  # in order: first, soon, later


def test_copies_join_their_originals_story_and_do_not_count_as_sources():
    s = _voa(1)[0]
    orig = article_profile(_article("o", s["text"], title=s["title"], source="voa"))
    copy = article_profile(_article("c", "Related: more.\n\n" + s["text"], title="Another headline", source="mirror",
                                    hour=18))  # published later: "o" is the first copy seen, whatever the ids
    clusterer = StoryClusterer()
    a, b = clusterer.add_all([orig, copy])
    assert b.near_duplicate_of == "o" and b.story_id == a.story_id
    story = clusterer.stories[a.story_id]
    assert story.num_articles == 2 and story.num_copies == 1 and story.num_sources == 1


def test_incremental_runs_give_the_one_shot_stories_and_state_survives_json():
    stories = _voa(20)
    profiles = [article_profile(_article(f"v{i}", s["text"], title=s["title"], day=DAY + _dt.timedelta(days=i // 4)))
                for i, s in enumerate(stories)]
    one = {a.article_id: a.story_id for a in StoryClusterer().add_all(profiles)}
    by_day = sorted(profiles, key=lambda p: p.order_key)
    state, seen, docs, copies, placed = [], {}, 0, None, {}
    ten = {}
    for k in range(0, len(by_day), 2):
        c = StoryClusterer(stories=[Story.from_json(json.loads(json.dumps(s))) for s in state], copies=copies,
                           article_story=placed, seen=json.loads(json.dumps(seen)), seen_docs=docs)
        ten.update({a.article_id: a.story_id for a in c.add_all(by_day[k:k + 2])})
        state, seen, docs, copies, placed = [s.to_json() for s in c.stories.values()], c.seen, c.seen_docs, c.copies, c.article_story
    assert ten == one
    # a re-run of articles already placed keeps their stories and opens none
    again = StoryClusterer(stories=[Story.from_json(s) for s in state], copies=copies, article_story=placed)
    assert all(not a.new_story and a.story_id == one[a.article_id] for a in again.add_all(profiles[:3]))


def test_story_ids_and_distances():
    assert story_id_of("abc") == story_id_of("abc") != story_id_of("abd")
    assert 60 < distance_km(39.80, -89.64, 40.69, -89.59) < 110  # Springfield - Peoria, IL
    assert Settings().threshold > 0


def test_closing_stories_beyond_the_horizon():
    c = StoryClusterer()
    c.add(_shooting(0, "Springfield", 39.8, -89.6, DAY, "John Smith", "a.com"))
    c.add(_shooting(0, "Peoria", 40.7, -89.6, DAY + _dt.timedelta(days=40), "Mary Jones", "b.com"))
    gone = c.close_before(DAY + _dt.timedelta(days=30))
    assert len(gone) == 1 and len(c.stories) == 1
    assert not c.candidates(_shooting(1, "Springfield", 39.8, -89.6, DAY, "John Smith", "c.com")) - set(c.stories)
