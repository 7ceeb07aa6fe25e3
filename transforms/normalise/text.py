"""Text decoding and normalisation: bytes in any encoding to clean, paragraph-preserving text.

Pure functions, no Beam. The rules are conservative: a line is dropped as boilerplate only
when the *whole* line is a known junk phrase, so article sentences are never cut.
"""
from __future__ import annotations

import codecs
import html
import re
from typing import Optional

import ftfy

__all__ = [
    "decode_bytes", "normalise_text", "normalise_line", "html_to_text", "looks_like_html",
    "is_junk_line", "strip_junk_edges", "count_words", "utf16_codec",
]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def utf16_codec(sample: bytes) -> Optional[str]:
    """``"utf-16-le"`` or ``"utf-16-be"`` when ``sample`` (the first bytes of a file) looks like
    UTF-16 text without a BOM: NUL in every other byte, as ASCII-heavy UTF-16 text has; else None.
    Decoders and the binary-file check both use this one test."""
    half = max(1, len(sample) // 2)
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def _utf16_without_bom(data: bytes) -> Optional[str]:
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    codec = utf16_codec(sample)
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def decode_bytes(data: bytes, declared: Optional[str] = None) -> str:
    """Decode ``data`` to str: BOM, then the declared charset, then strict UTF-8, then UTF-16
    without BOM, then charset detection (charset-normalizer), last cp1252 with replacement.
    Never raises."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(codec, errors="replace")
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    if b"\x00" in data[:4096]:
        text = _utf16_without_bom(data)
        if text is not None:
            return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    western = data.decode("cp1252", errors="replace")
    letters = [c for c in western[:100_000] if c.isalpha()]
    if letters and sum(1 for c in letters if ord(c) > 127) < 0.15 * len(letters):
        # Mostly ASCII with sparse accents: Latin-1/cp1252, the usual non-UTF-8 case on the web.
        return western
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:1_000_000]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace")
    except Exception:  # detection is best effort; cp1252 below never fails
        pass
    return western


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u200b\u200e\u200f\u2028\u2029\ufeff\ufffe]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")

# Whole lines that are page furniture, not article text (matched after whitespace folding).
_JUNK_LINE = re.compile(
    r"""^(?:
        advert(?:is|i)?e?ments?|adverti[sz]ing|anzeige|werbung|publicidad|publicit[ée]|pubblicit[àa]|
        sponsored(?:\ content)?|promoted(?:\ content)?|
        story\ continues\ below(?:\ (?:this\ )?advertisement)?|
        (?:article\ )?continues?\ (?:reading|below|after\ (?:the\ )?advertisement)(?:\ the\ main\ story)?|
        skip\ (?:to\ )?(?:main\ )?content|skip\ advertisement|
        (?:share|teilen)(?:\ (?:this|on|via)(?:\ \w+){0,3})?|share\ this\ (?:article|story)|
        (?:read|see)\ (?:more|also)(?::.*)?|related(?:\ (?:articles?|stories|coverage|content))?:?|
        (?:click|tap)\ here\ to\ .{0,80}|
        (?:sign\ up|subscribe)\b.{0,100}(?:newsletter|subscription|today|now|free|here)\.?|
        follow\ us\ on\ .{0,60}|
        (?:image|photo|video)(?:\ caption|\ source|\ credit)?:?|
        getty\ images|(?:ap|afp|reuters|epa)\ photo.{0,60}|
        (?:©|\(c\)|copyright)\ .{0,120}|all\ rights\ reserved\.?|
        print|email|e-mail|comments?|close|menu|loading\.{0,3}|
        (?:this\ )?(?:article|story)\ (?:was|is)\ (?:originally\ )?published\ .{0,80}|
        we\ use\ cookies.{0,200}|accept\ (?:all\ )?cookies
    )[.!:]?$""",
    re.IGNORECASE | re.VERBOSE,
)

# Junk words that page scrapes glue to a real line: "Advertisement The minister said ..." or
# "... on Friday. Advertisement". Case-sensitive and anchored to a sentence boundary, so that
# "Advertisement revenue fell" and "we saw an advertisement" stay intact.
_JUNK_WORD = r"(?:Advertisement|ADVERTISEMENT|Anzeige|ANZEIGE|Werbung|WERBUNG)"
_JUNK_EDGE = re.compile(rf"^(?:{_JUNK_WORD}\s+)+(?=[A-Z\"“‘'])|(?<=[.!?\"”’'])(?:\s+{_JUNK_WORD})+\s*$")


def is_junk_line(line: str) -> bool:
    """True when a whole (folded) line is boilerplate such as ``Advertisement``."""
    line = line.strip()
    return bool(line) and len(line) <= 300 and _JUNK_LINE.match(line) is not None


def strip_junk_edges(line: str) -> str:
    """Remove junk words glued to the start or end of a line."""
    return _JUNK_EDGE.sub("", line).strip()


def normalise_line(text: str) -> str:
    """One-line normalisation (titles, names): mojibake repair, entities, NFC, folded spaces."""
    if not text:
        return ""
    text = ftfy.fix_text(html.unescape(text), normalization="NFC", fix_character_width=False)
    text = _CONTROL.sub("", text.replace("\r", " ").replace("\n", " "))
    return _SPACES.sub(" ", text).strip()


def normalise_text(text: str) -> str:
    """Normalise article text.

    Repairs mojibake (ftfy), decodes HTML entities, applies NFC, removes control characters, folds
    spaces, drops boilerplate lines, and keeps paragraphs: the result has one paragraph per block,
    blocks separated by exactly one blank line. When the input has blank lines, lines inside a
    block are soft wraps and are joined; without blank lines, every line is a paragraph.
    """
    if not text:
        return ""
    text = html.unescape(text) if "&" in text else text
    text = ftfy.fix_text(text, normalization="NFC", unescape_html=False, fix_character_width=False)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    has_blank = any(not line for line in lines) and sum(1 for line in lines if line) > 1
    paragraphs = []
    block: list = []

    def flush() -> None:
        if block:
            paragraphs.append(" ".join(block))
            block.clear()

    for line in lines:
        if not line:
            flush()
            continue
        if is_junk_line(line):
            continue
        line = strip_junk_edges(line)
        if not line:
            continue
        block.append(line)
        if not has_blank:
            flush()
    flush()
    return "\n\n".join(paragraphs)


_HTML_HINT = re.compile(r"<\s*(?:p|div|br|span|a|img|b|i|em|strong|ul|ol|li|h[1-6]|table|figure|blockquote|html|body)\b[^>]*>",
                        re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    """Heuristic: does ``text`` carry HTML markup?"""
    return bool(text) and "<" in text and _HTML_HINT.search(text) is not None


_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "table", "tr", "section", "article", "header", "footer", "figure", "figcaption", "hr", "dd", "dt",
}
_DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "template", "svg", "form",
              "button", "select", "textarea", "head", "title", "meta", "link")


def _visible_text(root) -> str:
    """The text of an lxml tree with paragraph breaks around block elements.

    Iterative (an explicit stack, not recursion), so a page nested 100,000 levels deep costs time
    and memory in proportion to its size and never hits Python's recursion limit.
    """
    parts: list = []
    stack: list = [(root, False)]
    while stack:
        el, closing = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        block = tag in _BLOCK_TAGS
        if closing:
            if block:
                parts.append("\n\n")
            if el is not root and el.tail:
                parts.append(el.tail)
            continue
        if block:
            parts.append("\n\n")
        if el.text:
            parts.append(el.text)
        stack.append((el, True))
        stack.extend((child, False) for child in reversed(el))
    return "".join(parts)


_TAG_NAME = re.compile(r"(/?)([A-Za-z][\w:-]*)")


def _strip_markup(markup: str) -> str:
    """Tag stripping in one linear pass (no backtracking regex): the fallback of
    :func:`html_to_text`. Comments, declarations and the content of non-text elements
    (:data:`_DROP_TAGS`) are dropped, block elements become paragraph breaks, attributes never reach
    the text. A ``<`` that cannot start a tag is text; an unterminated tag or comment ends the text."""
    out: list = []
    i, n = 0, len(markup)
    skip = None  # the non-text element being skipped
    while i < n:
        lt = markup.find("<", i)
        if lt < 0:
            if skip is None:
                out.append(markup[i:])
            break
        if skip is None:
            out.append(markup[i:lt])
        if markup.startswith("<!--", lt):
            end = markup.find("-->", lt + 4)
            i = n if end < 0 else end + 3
            continue
        after = markup[lt + 1:lt + 2]
        if not (after.isalpha() or after in ("/", "!", "?")):
            if skip is None:
                out.append("<")  # "a < b" is text, not a tag
            i = lt + 1
            continue
        gt = markup.find(">", lt + 1)
        if gt < 0:
            break  # an unterminated tag at the end, as browsers do
        i = gt + 1
        m = _TAG_NAME.match(markup, lt + 1, gt)
        if m is None:  # <!DOCTYPE ...>, <?pi?>, </ >
            continue
        closing, name = m.group(1) == "/", m.group(2).lower()
        if skip is not None:
            if closing and name == skip:
                skip = None
            continue
        if name in _DROP_TAGS and not closing and not markup[lt:gt].rstrip().endswith("/"):
            skip = name
        elif name in _BLOCK_TAGS:
            out.append("\n\n")
        else:
            out.append(" " if name in ("td", "th") else "")
    return "".join(out)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment, one paragraph per block element.

    Script, style and other non-text elements are removed with their content; attributes (``on*=``,
    ``javascript:`` URLs) never reach the text. No network or file access (lxml's HTML parser
    resolves no entities). Never raises: markup lxml cannot read (or nested too deep for it) falls
    back to :func:`_strip_markup`.
    """
    if not markup or not markup.strip():
        return ""
    try:
        import lxml.html
        from lxml import etree

        root = lxml.html.fragment_fromstring(markup, create_parent="div")
        etree.strip_elements(root, *_DROP_TAGS, etree.Comment, etree.ProcessingInstruction, with_tail=False)
        text = _visible_text(root)
    except Exception:
        text = ""
    if not text.strip():
        # lxml failed, or gave up on a page nested deeper than libxml2's limit (256 levels)
        text = _strip_markup(markup)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+",
                   re.UNICODE)


def count_words(text: str) -> int:
    """Words in ``text``; each CJK character counts as one word."""
    return len(_WORD.findall(text))
