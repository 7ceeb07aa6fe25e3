"""The HTTP client, feed lists, and feed URLs as pipeline inputs (local server on 127.0.0.1 only)."""
from __future__ import annotations

import json
import threading
import time
import tracemalloc

import apache_beam as beam
import pyarrow.dataset as ds
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines.batch import ReadArticles, build_batch
from tests.conftest import NOW
from tests.feedserver import Big, Feed, FeedServer, Hang, Page, Redirect, Status, rss
from transforms.fetch.client import USER_AGENT, Fetcher, FetchError, FetchSettings, HostThrottle
from transforms.fetch.state import compact_validators, load_validators, write_pending_validators
from transforms.inputs.expand import expand_input
from transforms.inputs.feedlists import FeedListError, parse_opml, parse_text_list, read_feed_list

FAST = FetchSettings(connect_timeout=0.5, read_timeout=0.3, total_timeout=1.0, retries=1, backoff=0.01,
                     max_backoff=0.05, max_bytes=1024 * 1024, max_decompressed_bytes=2 * 1024 * 1024,
                     max_redirects=3, host_delay=0.0)
ITEMS = [("One", "http://example.org/one?utm_source=rss", "First story text."),
         ("Two", "http://example.org/two", "Second story text.")]


def fetcher(**changes):
    import dataclasses

    return Fetcher(dataclasses.replace(FAST, **changes), throttle=HostThrottle(changes.get("host_delay", 0.0)))


@pytest.fixture
def server():
    with FeedServer() as srv:
        yield srv


# ------------------------------------------------------------------ the client

def test_get_sends_user_agent_and_decodes_gzip(server):
    server.routes["/feed.xml"] = Feed(rss("T", ITEMS), etag='"v1"', gzip=True)
    resp = fetcher().get(server.url("/feed.xml"))
    assert resp.status == 200 and resp.body.startswith(b"<?xml") and resp.etag == '"v1"'
    assert resp.wire_bytes < len(resp.body)  # it came compressed
    headers = server.requests[-1][1]
    assert headers["User-Agent"] == USER_AGENT and "gzip" in headers["Accept-Encoding"]


def test_conditional_get_answers_304(server):
    server.routes["/feed.xml"] = Feed(rss("T", ITEMS), etag='"v1"', last_modified="Tue, 24 Nov 2026 10:00:00 GMT")
    first = fetcher().get(server.url("/feed.xml"))
    second = fetcher().get(server.url("/feed.xml"), first.validators)
    assert second.not_modified and second.body == b"" and second.validators == first.validators
    assert server.requests[-1][1]["If-None-Match"] == '"v1"'


ROOMY = dict(read_timeout=10.0, total_timeout=20.0)  # where time is not what a case tests


@pytest.mark.parametrize("spec, kind, attempts, settings", [
    (Status(500), "http_status", 2, ROOMY),          # retried once, then given up
    (Status(404), "http_status", 1, ROOMY),          # not retried
    (Hang(60), "timeout", 2, {}),                     # silent server: 0.3 s read timeout, twice
    (Hang(60, after_headers=True), "timeout", 2, {}),  # headers, then silence
    (Redirect("/loop"), "redirect_loop", 1, ROOMY),
    (Big(50 * 1024 * 1024), "too_large", 1, ROOMY),   # refused on Content-Length
    (Big(50 * 1024 * 1024, content_length=False), "too_large", 1, ROOMY),  # cut while reading
    (Big(50 * 1024 * 1024, gzip_bomb=True), "too_large", 1, ROOMY),         # 50 MB of spaces in ~50 kB
])
def test_failures_are_fetch_errors(server, spec, kind, attempts, settings):
    """Asserts what the client reports (kind, attempts, bytes read), never how long the server
    took: the bodies are built before the request, and only the hanging server's cases rely on a
    timeout, one far below the server's silence (0.3 s against 60 s)."""
    server.routes["/loop"] = spec
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetcher(**settings).get(server.url("/loop"))
    assert info.value.kind == kind, info.value
    assert info.value.attempts == attempts and server.hits("/loop") == attempts
    if isinstance(spec, Hang):
        assert time.monotonic() - started < 30  # the client gave up long before the server would answer
    if isinstance(spec, Big) and not spec.gzip_bomb:
        # Content-Length: refused before the body; chunked: cut just past the 1 MiB limit.
        assert info.value.bytes_read <= FAST.max_bytes + 64 * 1024


def test_redirects_are_followed_and_bounded(server):
    server.routes["/feed.xml"] = Feed(rss("T", ITEMS))
    server.routes["/r1"] = Redirect("/feed.xml", 301)
    assert fetcher().get(server.url("/r1")).body.startswith(b"<?xml")
    for i in range(6):
        server.routes[f"/c{i}"] = Redirect(f"/c{i + 1}")
    with pytest.raises(FetchError) as info:
        fetcher().get(server.url("/c0"))
    assert info.value.kind == "too_many_redirects" and server.hits("/c4") == 0


def test_retry_after_a_5xx_succeeds(server):
    server.routes["/flaky"] = [Status(503), Feed(rss("T", ITEMS))]
    resp = fetcher().get(server.url("/flaky"))
    assert resp.status == 200 and resp.attempts == 2


def test_a_50mb_body_is_cut_early_and_memory_stays_bounded(server):
    server.routes["/big"] = Big(50 * 1024 * 1024, content_length=False)
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as info:
            fetcher(max_bytes=4 * 1024 * 1024, max_decompressed_bytes=4 * 1024 * 1024).get(server.url("/big"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.kind == "too_large"
    assert 4 * 1024 * 1024 < info.value.bytes_read <= 4 * 1024 * 1024 + 64 * 1024
    assert peak < 16 * 1024 * 1024, peak


def test_one_request_at_a_time_per_host_with_a_delay(server):
    server.routes["/slow"] = Page("<html><body>x</body></html>")
    throttle = HostThrottle(0.2)
    f = Fetcher(FAST, throttle=throttle)
    starts = []
    server.on_request = lambda path: starts.append(time.monotonic())
    threads = [threading.Thread(target=f.get, args=(server.url("/slow"),)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    starts.sort()
    assert len(starts) == 3 and all(b - a >= 0.19 for a, b in zip(starts, starts[1:])), starts


# ------------------------------------------------------------------ feed lists

def test_text_list_and_opml(tmp_path):
    assert parse_text_list("# my feeds\nhttp://a/x.xml  # news\n\nhttp://b/y.xml\nhttp://a/x.xml\n") == [
        "http://a/x.xml", "http://b/y.xml"]
    opml = (b'<?xml version="1.0"?><opml version="2.0"><head><title>Subs</title></head><body>'
            b'<outline text="News"><outline type="rss" text="A" xmlUrl="http://a/x.xml"/>'
            b'<outline type="rss" text="B" xmlUrl="https://b/y.xml" htmlUrl="https://b/"/></outline>'
            b'<outline text="empty folder"/></body></opml>')
    assert parse_opml(opml) == ["http://a/x.xml", "https://b/y.xml"]
    (tmp_path / "subs.opml").write_bytes(opml)
    (tmp_path / "feeds.txt").write_text(f"http://c/z.xml\n{tmp_path / 'subs.opml'}  # nested lists are refused\n")
    assert expand_input(str(tmp_path / "subs.opml")) == ["http://a/x.xml", "https://b/y.xml"]
    assert expand_input("https://example.org/feed") == ["https://example.org/feed"]
    with pytest.raises(ValueError, match="do not nest"):
        expand_input(f"@{tmp_path / 'feeds.txt'}")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(FeedListError):
        read_feed_list(f"@{tmp_path / 'empty.txt'}")
    with pytest.raises(FileNotFoundError):
        expand_input(f"@{tmp_path / 'missing.txt'}")


def test_a_text_file_of_urls_is_a_feed_list_without_the_at(tmp_path, caplog):
    """``newsbeam watch feeds.txt``: a .txt (or extension-less) file whose lines are all URLs or comments
    is a feed list wherever it is given; a file with one line of prose is an article, and a file of URLs
    found inside a folder is read as an article with a warning."""
    from transforms.inputs.feedlists import is_feed_list
    from transforms.inputs.readers import read_input

    urls = "# my feeds\nhttps://a.example/feed.xml\n\nhttp://b.example/rss  # news\n"
    (tmp_path / "feeds.txt").write_text(urls)
    (tmp_path / "feeds").write_text(urls)
    (tmp_path / "notes.txt").write_text("Read this later:\nhttps://a.example/story\n")
    (tmp_path / "urls.json").write_text('"https://a.example/feed.xml"\n')
    for name in ("feeds.txt", "feeds"):
        assert is_feed_list(str(tmp_path / name))
        assert expand_input(str(tmp_path / name)) == ["https://a.example/feed.xml", "http://b.example/rss"]
    assert not is_feed_list(str(tmp_path / "notes.txt")) and not is_feed_list(str(tmp_path / "urls.json"))
    assert expand_input(str(tmp_path / "notes.txt")) == [str(tmp_path / "notes.txt")]
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "links.txt").write_text(urls)
    assert expand_input(str(folder)) == [str(folder / "links.txt")]  # inside a folder: an input, not a list
    with caplog.at_level("WARNING"):
        records = list(read_input(str(folder / "links.txt")))
    assert len(records) == 1 and "holds nothing but URLs" in caplog.text and f"@{folder / 'links.txt'}" in caplog.text


def test_a_run_of_a_url_list_without_the_at_fetches_the_feeds(server, tmp_path):
    server.routes["/a.xml"] = Feed(rss("Feed A", ITEMS))
    (tmp_path / "feeds.txt").write_text(f"# subscriptions\n{server.url('/a.xml')}\n")
    root = tmp_path / "root"
    with TestPipeline(runner=FnApiRunner()) as p:
        out = build_batch(p, [str(tmp_path / "feeds.txt")], root=str(root), run_id="r1", ingested_at=NOW, nlp=False)
        assert_that(out["articles"] | beam.Map(lambda a: a["input_path"]), equal_to([server.url("/a.xml")] * 2))
    assert [p for p, _ in server.requests] == ["/a.xml"]


# ------------------------------------------------------------------ validators in ROOT

def test_pending_validators_count_only_after_commit(tmp_path):
    root = str(tmp_path / "root")
    stamp = "2026-11-27T12:00:00+00:00"
    write_pending_validators(root, "r1", {"http://a/x": {"etag": '"1"', "fetched_at": stamp}})
    assert load_validators(root) == {}  # run r1 has not committed (it may have been killed)
    (tmp_path / "root" / "_runs").mkdir(parents=True)
    (tmp_path / "root" / "_runs" / "r1.json").write_text("{}")
    assert load_validators(root)["http://a/x"]["etag"] == '"1"'
    assert compact_validators(root) == 1
    assert json.loads((tmp_path / "root" / "_state" / "http.json").read_text())["validators"]["http://a/x"]["etag"] == '"1"'
    assert not (tmp_path / "root" / "_state" / "http-pending" / "r1").exists()
    assert load_validators(root)["http://a/x"]["etag"] == '"1"'


# ------------------------------------------------------------------ feed URLs in the batch pipeline

def test_read_articles_fetches_feeds_and_reports_failures(server, tmp_path):
    server.routes["/a.xml"] = Feed(rss("Feed A", ITEMS), etag='"a1"')
    server.routes["/broken.xml"] = Feed(b"<rss version=\"2.0\"><channel><title>Broken</title><<<>>>")
    server.routes["/down.xml"] = Status(500)
    urls = [server.url(p) for p in ("/a.xml", "/broken.xml", "/down.xml")]
    root = str(tmp_path / "root")
    with TestPipeline(runner=FnApiRunner()) as p:
        out = p | ReadArticles(urls, run_id="r1", ingested_at=NOW, root=root, fetch=FAST)
        assert_that(out["articles"] | beam.Map(lambda a: (a["title"], a["url"], a["source"], a["input_path"])),
                    equal_to([("One", "http://example.org/one", "Feed A", urls[0]),
                              ("Two", "http://example.org/two", "Feed A", urls[0])]), label="CheckArticles")
        assert_that(out["errors"] | beam.Map(lambda e: (e.input_path, e.stage, e.error_type)),
                    equal_to([(urls[1], "parse", "malformed_feed"), (urls[2], "fetch", "http_status")]),
                    label="CheckErrors")
    assert load_validators(root) == {}  # pending until the run commits
    assert list((tmp_path / "root" / "_state" / "http-pending").iterdir())


def test_fetch_articles_uses_the_page_and_keeps_the_summary_on_failure(server, tmp_path):
    story = " ".join(["The council voted on Tuesday to rebuild the old harbour wall after the storm."] * 6)
    server.routes["/p/one"] = Page(f"<html><head><title>One | Site</title></head><body><article><h1>One</h1>"
                                   f"<p>{story}</p><p>{story}</p></article></body></html>")
    server.routes["/p/two"] = Status(404)
    items = [("One", server.url("/p/one"), "Short summary one."), ("Two", server.url("/p/two"), "Summary two.")]
    server.routes["/f.xml"] = Feed(rss("F", items))
    root = tmp_path / "root"
    with TestPipeline(runner=FnApiRunner()) as p:
        out = p | ReadArticles([server.url("/f.xml")], run_id="r1", ingested_at=NOW, root=str(root), fetch=FAST,
                               fetch_articles=True)
        assert_that(out["articles"] | beam.Map(lambda a: (a["title"], a["text"][:30], a["record_index"])),
                    equal_to([("One", "The council voted on Tuesday t", 0), ("Two", "Summary two.", 1)]),
                    label="CheckArticles")
        assert_that(out["errors"] | beam.Map(lambda e: (e.input_path, e.record_index, e.stage, e.error_type,
                                                        e.article_id is not None)),
                    equal_to([(server.url("/f.xml"), 1, "fetch", "http_status", True)]), label="CheckErrors")


def test_fetch_articles_honours_robots_txt_and_its_crawl_delay(server, tmp_path):
    """A page robots.txt disallows keeps the feed's summary and is one robots_disallowed row; robots.txt
    is fetched once per host; its Crawl-delay slows the host when longer than --fetch-delay."""
    story = " ".join(["The council voted on Tuesday to rebuild the old harbour wall after the storm."] * 6)
    page = Page(f"<html><body><article><h1>One</h1><p>{story}</p><p>{story}</p></article></body></html>")
    server.routes["/news/one"] = page
    server.routes["/news/three"] = page
    server.routes["/private/two"] = page
    server.routes["/robots.txt"] = Page("User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n\n"
                                        "User-agent: otherbot\nDisallow: /\n")
    items = [("One", server.url("/news/one"), "Summary one."), ("Two", server.url("/private/two"), "Summary two."),
             ("Three", server.url("/news/three"), "Summary three.")]
    server.routes["/f.xml"] = Feed(rss("F", items))
    with TestPipeline(runner=FnApiRunner()) as p:
        out = p | ReadArticles([server.url("/f.xml")], run_id="r1", ingested_at=NOW, root=str(tmp_path / "root"),
                               fetch=FAST, fetch_articles=True)
        assert_that(out["articles"] | beam.Map(lambda a: (a["title"], "harbour wall" in a["text"])),
                    equal_to([("One", True), ("Two", False), ("Three", True)]), label="CheckArticles")
        assert_that(out["errors"] | beam.Map(lambda e: (e.record_index, e.stage, e.error_type)),
                    equal_to([(1, "fetch", "robots_disallowed")]), label="CheckErrors")
    paths = [p for p, _ in server.requests]
    assert paths.count("/robots.txt") == 1 and "/private/two" not in paths
    times = [t for (p, _), t in zip(server.requests, server.times) if p.startswith("/news/")]
    assert len(times) == 2 and times[1] - times[0] >= 0.99  # Crawl-delay 1 s > --fetch-delay 0


def test_robots_txt_missing_forbidden_or_failing(server):
    from transforms.fetch.robots import RobotsRules

    fetcher = Fetcher(FAST, throttle=HostThrottle(0.0))
    for status, allowed in ((404, True), (410, True), (403, False), (503, False)):
        server.routes["/robots.txt"] = Status(status)
        ok, reason = RobotsRules(fetcher).allowed(server.url("/news/x"))
        assert ok is allowed, status
        assert (reason is not None) == (status == 503)  # an unreadable robots.txt says why


def test_fetched_run_commits_balanced_and_then_gets_304(server, tmp_path):
    server.routes["/a.xml"] = Feed(rss("Feed A", ITEMS), etag='"a1"')
    server.routes["/down.xml"] = Status(503)
    root = tmp_path / "root"
    urls = [server.url("/a.xml"), server.url("/down.xml")]
    opts = ["--output", str(root), "--fetch-timeout", "0.3", "--fetch-retries", "0", "--fetch-delay", "0"]
    from apache_beam.options.pipeline_options import PipelineOptions

    import pipelines.options  # noqa: F401  (registers --output, as the CLI does)

    def run(run_id):
        p = beam.Pipeline(runner=FnApiRunner(), options=PipelineOptions(opts))
        build_batch(p, urls, root=str(root), run_id=run_id, ingested_at=NOW, nlp=False)
        p.run().wait_until_finish()
        return json.loads((root / "_runs" / f"{run_id}.json").read_text())["counts"]

    first = run("r1")
    assert first["articles"] == 2 and first["balanced"] and first["errors_by_stage"] == {"fetch": 1}
    assert server.requests[-1][1].get("If-None-Match") is None
    second = run("r2")
    assert [h.get("If-None-Match") for p, h in server.requests if p == "/a.xml"] == [None, '"a1"']
    assert second["articles"] == 0 and second["records_read"] == 0 and second["duplicates"] == 0
    errors = ds.dataset(str(root / "errors"), partitioning="hive").to_table().to_pylist()
    assert {(e["input_path"], e["stage"], e["run_id"]) for e in errors} == {
        (urls[1], "fetch", "r1"), (urls[1], "fetch", "r2")}
