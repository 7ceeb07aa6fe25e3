"""Text decoding and normalisation."""
from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.normalise.language import detect_language
from transforms.normalise.text import (
    count_words,
    decode_bytes,
    html_to_text,
    is_junk_line,
    normalise_line,
    normalise_text,
)


@pytest.mark.parametrize("data, expected", [
    ("Café crème brûlée in the city centre".encode("latin-1"), "Café crème brûlée in the city centre"),
    ("Zürich news: Müller wins".encode("cp1252"), "Zürich news: Müller wins"),
    (codecs.BOM_UTF8 + "naïve".encode("utf-8"), "naïve"),
    ("hello world".encode("utf-16-le"), "hello world"),
    ("hello world".encode("utf-16-be"), "hello world"),
    (codecs.BOM_UTF16_LE + "hi there".encode("utf-16-le"), "hi there"),
    ("中文新闻报道今天发布了".encode("gb2312"), "中文新闻报道今天发布了"),
])
def test_decode_bytes_handles_common_encodings(data, expected):
    assert decode_bytes(data) == expected


def test_decode_bytes_never_raises_on_junk():
    assert isinstance(decode_bytes(bytes(range(256)) * 3), str)


def test_normalise_repairs_mojibake_entities_and_whitespace():
    text = "The  caf\u00c3\u00a9 &amp; bar\u00a0opened.\r\n\r\n\r\nSecond\tparagraph  here."
    assert normalise_text(text) == "The café & bar opened.\n\nSecond paragraph here."


def test_normalise_keeps_paragraphs_and_joins_soft_wraps():
    text = "First paragraph that\nwraps onto a second line.\n\nSecond paragraph."
    assert normalise_text(text) == "First paragraph that wraps onto a second line.\n\nSecond paragraph."


def test_normalise_without_blank_lines_keeps_each_line_as_paragraph():
    assert normalise_text("One.\nTwo.\nThree.") == "One.\n\nTwo.\n\nThree."


@pytest.mark.parametrize("line", ["Advertisement", "ADVERTISEMENT", "Story continues below advertisement",
                                  "Share this article", "Read more: other story", "Skip to main content",
                                  "Sign up for our newsletter", "© 2024 Example News", "Anzeige"])
def test_junk_lines_are_dropped(line):
    assert is_junk_line(line)
    assert normalise_text(f"Real text here.\n\n{line}\n\nMore text.") == "Real text here.\n\nMore text."


@pytest.mark.parametrize("line", ["Advertisement revenue fell 20% this year.", "Share prices rose on Monday.",
                                  "Read the full report, the minister said."])
def test_sentences_that_start_like_junk_are_kept(line):
    assert not is_junk_line(line)
    assert normalise_text(line) == line


def test_junk_glued_to_a_line_is_removed():
    assert normalise_text("Officials met on Friday. Advertisement") == "Officials met on Friday."


def test_html_to_text_drops_script_style_and_attributes():
    html = ('<div><p onclick="steal()">Hello <b>bold</b> world</p><script>alert("x")</script>'
            '<style>p{}</style><a href="javascript:alert(1)">link</a><p>Second</p></div>')
    text = html_to_text(html)
    assert text == "Hello bold world\n\nlink\n\nSecond"
    assert "alert" not in text and "steal" not in text and "javascript" not in text


def test_html_to_text_of_broken_markup_does_not_raise():
    assert "text" in html_to_text("<p>text <b>unclosed <i>tags")


def test_normalise_line_folds_everything_to_one_line():
    assert normalise_line("  A\n  title&nbsp;with\tspaces ") == "A title with spaces"


def test_detect_language_offline():
    assert detect_language("US immigration officials in New York shot a man in the face on Thursday.") == "en"
    assert detect_language("Die Bundesregierung hat am Donnerstag neue Maßnahmen beschlossen.") == "de"
    assert detect_language("short", hint="pt-BR") == "pt"


def test_count_words_counts_cjk_characters():
    assert count_words("Hello, world! It's 2020.") == 5
    assert count_words("中文新闻") == 4


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalise_text_properties(text):
    out = normalise_text(text)
    assert out == out.strip()
    assert "\n\n\n" not in out
    assert "\r" not in out and "\x00" not in out
    assert normalise_text(out) == out or normalise_text(normalise_text(out)) == normalise_text(out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_decode_bytes_property_never_raises(data):
    assert isinstance(decode_bytes(data), str)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=500))
def test_html_to_text_property_never_raises_and_has_no_tags(text):
    out = html_to_text(f"<p>{text}</p><script>evil()</script>")
    assert "evil()" not in out


# --- the language-id model cache (transforms.normalise.language) ---------------------------------------

_LANGUAGE_SAMPLES = [
    "US immigration officials in New York shot a man in the face on Thursday.",
    "Die Bundesregierung hat am Donnerstag neue Maßnahmen beschlossen.",
    "Le gouvernement a annoncé jeudi de nouvelles mesures contre la crise.",
    "El presidente anunció el jueves nuevas medidas económicas para el país.",
    "Правительство объявило в четверг о новых мерах.",
    "政府は木曜日に新たな対策を発表した。",
    "", "1234 5678", "ICE ICE ICE",
]


def _same_model(a, b) -> None:
    import numpy as np

    assert a.nb_classes == b.nb_classes
    assert np.array_equal(a.nb_ptc, b.nb_ptc) and np.array_equal(a.nb_pc, b.nb_pc)
    assert list(a.tk_nextmove) == list(b.tk_nextmove) and list(a.tk_row) == list(b.tk_row)
    assert list(a.tk_output) == list(b.tk_output)


def test_langid_cache_holds_py3langid_model_and_answers_the_same(tmp_path, monkeypatch):
    from py3langid.langid import LanguageIdentifier

    from transforms.normalise import language as langid_model

    monkeypatch.setenv(langid_model.CACHE_ENV, str(tmp_path / "cache"))
    own = LanguageIdentifier.from_model_file(langid_model._model_file())
    first = langid_model.load_identifier()  # decompresses into the cache
    cached = langid_model.cache_file()
    assert cached.parent == tmp_path / "cache" and cached.stat().st_size > 10 * 1024 * 1024
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no temporary file left
    second = langid_model.load_identifier()  # reads the cache
    for ident in (first, second):
        _same_model(ident, own)
        assert [ident.classify(t) for t in _LANGUAGE_SAMPLES] == [own.classify(t) for t in _LANGUAGE_SAMPLES]
    assert [second.classify(t)[0] for t in _LANGUAGE_SAMPLES[:6]] == ["en", "de", "fr", "es", "ru", "ja"]


def test_langid_cache_rebuilds_a_damaged_file_and_works_without_a_cache(tmp_path, monkeypatch, caplog):
    from transforms.normalise import language as langid_model

    monkeypatch.setenv(langid_model.CACHE_ENV, str(tmp_path / "cache"))
    cached = langid_model.cache_file()
    cached.parent.mkdir()
    cached.write_bytes(b"PK\x03\x04 not a model")  # e.g. a file cut short by a full disk
    assert langid_model.load_identifier().classify(_LANGUAGE_SAMPLES[1])[0] == "de"
    assert "unusable" in caplog.text and cached.stat().st_size > 10 * 1024 * 1024

    monkeypatch.setenv(langid_model.CACHE_ENV, "off")
    assert langid_model.cache_dir() is None
    assert langid_model.load_identifier().classify(_LANGUAGE_SAMPLES[2])[0] == "fr"

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv(langid_model.CACHE_ENV, str(blocker / "cache"))  # cannot be created
    assert langid_model.load_identifier().classify(_LANGUAGE_SAMPLES[3])[0] == "es"
    assert not (blocker / "cache").exists()


def test_langid_cache_folder_defaults(monkeypatch, tmp_path):
    from transforms.normalise import language as langid_model

    monkeypatch.delenv(langid_model.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert langid_model.cache_dir() == tmp_path / "newsbeam"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert langid_model.cache_dir() == tmp_path / "home" / ".cache" / "newsbeam"
