"""Issue 8, case 2: hostile XML is inert. External entities (XXE: a local file, an http URL),
parameter entities, billion laughs and quadratic blow-up never read a file, never make a request and
keep memory bounded: the feed is one ``hostile_xml`` error row (or, for an external DTD, a safely
parsed feed). feedparser's own defences are checked too, with our pre-scan switched off."""
from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading

import pyarrow.dataset as ds
import pytest

from tests.conftest import REPO
from transforms.inputs import readers
from transforms.inputs.readers import parse_feed, parse_html, xml_hazard
from transforms.normalise.text import html_to_text
from transforms.records import RawArticle, RecordError

MARKER = "MARKER-5c1e9b-never-read"


class _CountingServer:
    """An http server on 127.0.0.1 that counts every request (must stay at zero)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(f'<!ENTITY leak "{MARKER}">'.encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/evil.dtd"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    srv = _CountingServer()
    yield srv
    srv.close()


def _rss(body: str) -> str:
    return (f"<rss version='2.0'><channel><title>Feed</title><item><title>Story</title>"
            f"<link>http://example.org/s</link><description>Before {body} after.</description></item></channel></rss>")


def billion_laughs(levels: int = 10) -> str:
    decls = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, levels)]
    return '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(decls) + "\n]>\n" + _rss(f"&lol{levels - 1};")


def quadratic_blowup(value_bytes: int = 50_000, references: int = 50_000) -> str:
    """One harmless-looking entity referenced many times: 1 MB of feed, 2.5 GB expanded. feedparser's
    loose parser (used when expat refuses the document) would expand it without limit."""
    return ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "' + "x" * value_bytes + '">\n]>\n'
            + _rss("&a;" * references))


def hostile_documents(marker_path: str, url: str) -> dict:
    return {
        "xxe_file": f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file://{marker_path}">\n]>\n' + _rss("&xxe;"),
        "xxe_file_one_line": f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{marker_path}">]>' + _rss("&xxe;"),
        "xxe_http": f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "{url}">\n]>\n' + _rss("&xxe;"),
        "xxe_public": f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY xxe PUBLIC "-//X//Y" "{url}">\n]>\n' + _rss("&xxe;"),
        "parameter_entity": f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY % p SYSTEM "{url}">\n%p;\n]>\n' + _rss("&leak;"),
        "billion_laughs": billion_laughs(),
        "billion_laughs_one_line": billion_laughs().replace("\n", ""),
        "quadratic_blowup": quadratic_blowup(),
    }


@pytest.fixture
def marker_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(MARKER)
    return path


def test_hostile_feeds_are_one_hostile_xml_row(marker_file, server):
    for name, doc in hostile_documents(str(marker_file), server.url).items():
        records = list(parse_feed(doc.encode(), f"{name}.xml"))
        assert [(type(r), r.error_type) for r in records] == [(RecordError, "hostile_xml")], name
        assert MARKER not in repr(records)
    assert server.hits == []


def test_utf16_hostile_feed_is_refused(marker_file, server):
    """The pre-scan reads the document as feedparser does (transcoded to UTF-8 first)."""
    doc = hostile_documents(str(marker_file), server.url)["xxe_file"].replace('<?xml version="1.0"?>', "")
    for codec, declaration in (("utf-16", ""), ("utf-16-le", '<?xml version="1.0" encoding="utf-16"?>'),
                               ("utf-16-be", '<?xml version="1.0" encoding="utf-16"?>'), ("utf-32", "")):
        records = list(parse_feed((declaration + doc).encode(codec), "utf16.xml"))
        assert [r.error_type for r in records] == ["hostile_xml"], codec
    # Without BOM or declaration feedparser cannot read it at all: an error row, nothing read.
    records = list(parse_feed(doc.encode("utf-16-le"), "utf16.xml"))
    assert all(isinstance(r, RecordError) for r in records) and MARKER not in repr(records)
    assert server.hits == []


def test_external_dtd_is_never_fetched_and_the_feed_is_read(server):
    doc = f'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "{server.url}">\n'
    records = list(parse_feed((doc + _rss("plain")).encode(), "netscape.xml"))
    assert [type(r) for r in records] == [RawArticle] and "Before plain after." in records[0].text
    assert server.hits == []


def test_plain_internal_entities_still_work():
    doc = '<!DOCTYPE rss [\n  <!ENTITY id "tag:example.com,">\n]>\n' + _rss("&id;2006")
    assert xml_hazard(doc.encode()) is None
    (record,) = parse_feed(doc.encode(), "entity.xml")
    assert "tag:example.com,2006" in record.text


def test_feedparser_alone_never_resolves_external_entities(marker_file, server, monkeypatch):
    """Defence in depth: with our pre-scan off, feedparser (expat with external entities off, then its
    loose parser) still reads no file and makes no request. Only the quadratic blow-up needs the
    pre-scan (measured: 1 MB of feed took 4.8 GB), so it is left out here."""
    monkeypatch.setattr(readers, "xml_hazard", lambda data: None)
    docs = hostile_documents(str(marker_file), server.url)
    for name in ("xxe_file", "xxe_file_one_line", "xxe_http", "xxe_public", "parameter_entity", "billion_laughs"):
        records = list(parse_feed(docs[name].encode(), f"{name}.xml"))
        assert MARKER not in repr(records) and "lollollol" not in repr(records), name
    assert server.hits == []


def test_html_pages_do_not_resolve_entities(marker_file, server):
    page = (f'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{marker_file}"><!ENTITY web SYSTEM "{server.url}">]>'
            "<html><head><title>Page</title></head><body><article><p>The council met on Tuesday to vote on the "
            "budget &xxe; and the bridge &web; plan.</p><p>It passed by seven votes to two after a long debate "
            "about the cost of repairs.</p></article></body></html>")
    records = list(parse_html(page.encode(), "page.html"))
    assert MARKER not in repr(records)
    assert MARKER not in html_to_text(page)
    assert server.hits == []


# VmHWM (peak RSS of this process image; ru_maxrss would include the parent's through fork and exec)
_MEASURE = """
import json, sys, time
from transforms.inputs.readers import read_input

def peak_mb():
    return int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:"))) / 1024

start = time.monotonic()
before = peak_mb()
records = [(type(r).__name__, getattr(r, "error_type", None)) for r in read_input(sys.argv[1])]
print(json.dumps({"records": records, "seconds": time.monotonic() - start, "peak_mb": peak_mb(),
                  "before_mb": before}))
"""


@pytest.mark.parametrize("name, doc", [("billion_laughs", billion_laughs()),
                                       ("quadratic_blowup", quadratic_blowup(50_000, 200_000))])
def test_entity_bombs_take_bounded_memory(tmp_path, name, doc):
    path = tmp_path / f"{name}.xml"
    path.write_text(doc)
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], cwd=REPO, capture_output=True, text=True,
                         timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["records"] == [["RecordError", "hostile_xml"]]
    print(f"{name}: {path.stat().st_size / 1e6:.1f} MB, peak RSS {result['peak_mb']:.0f} MB "
          f"(+{result['peak_mb'] - result['before_mb']:.0f} MB), {result['seconds']:.2f}s")
    assert result["peak_mb"] - result["before_mb"] < 50, result
    assert result["seconds"] < 5, result


def test_hostile_feeds_through_the_pipeline(tmp_path, marker_file, server):
    from tests.test_reliability import run_cli

    folder = tmp_path / "in"
    folder.mkdir()
    docs = hostile_documents(str(marker_file), server.url)
    for name, doc in docs.items():
        (folder / f"{name}.xml").write_text(doc)
    root = tmp_path / "root"
    result = run_cli(folder, root)
    assert result.returncode == 0, result.stderr
    manifest = result.manifest
    assert manifest["counts"]["files"] == len(docs) and manifest["counts"]["balanced"]
    errors = ds.dataset(root / "errors", format="parquet", partitioning="hive").to_table().to_pylist()
    assert sorted((os.path.basename(e["input_path"]), e["error_type"]) for e in errors) == sorted(
        (f"{name}.xml", "hostile_xml") for name in docs)
    assert not (root / "articles").exists()
    assert server.hits == []
    assert result.peak_mb < 400, result.peak_mb


@pytest.mark.parametrize("doc", [
    b"<!ENTITY " + b"a" * 2_000_000,                      # unterminated name
    b"<!ENTITY a " + b'"x" ' * 500_000,                   # unterminated after many literals
    b"<!--<!ENTITY" * 170_000,                            # unterminated comments
    b"<![CDATA[" * 220_000 + b"<!ENTITY",                 # unterminated CDATA
    b'<!ENTITY a "&' * 150_000,                           # unterminated value full of references
    b"<!ENTITY " * 220_000,                               # many starts
], ids=["long-name", "many-literals", "comments", "cdata", "references", "many-starts"])
def test_the_pre_scan_takes_linear_time_on_hostile_declarations(doc):
    import time

    started = time.monotonic()
    assert xml_hazard(doc) is not None or b"<!ENTITY" not in doc.replace(b"<!--<!ENTITY", b"")
    assert time.monotonic() - started < 1.0
