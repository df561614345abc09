"""The web page: search with filters, facets and a chart, an article view, the crawl runs.

Server-rendered Jinja2 with inline SVG and a stylesheet served from ``archive/web/``: no
build step, no script, nothing from elsewhere. It reads its query string with the API's
parameter models (``archive.web.api.params``) and calls ``archive.query.search`` like the API and the CLI.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from archive.web.api.params import PageParams, ParameterError, RunParams, parse_query
from archive.catalogue.store import Catalogue
from archive.query.articles import get_article
from archive.query.facets import facet_counts
from archive.query.runs import list_runs
from archive.query.search import search_page

WEB = Path(__file__).parent  # templates/ and static/ beside this module
PAGE_SIZE = 20  # results a person scans before refining the search
RUNS_PAGE_SIZE = 100  # a few weeks of scheduled crawls
# Colour-blind-safe (Okabe-Ito); the last one is "other sources".
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#999999")
CHART_WIDTH, CHART_HEIGHT = 720, 160
DAILY_SPAN = 92  # days; a longer range is drawn a bar per month so bars stay visible


@dataclass(frozen=True)
class Bar:
    """One segment of a stacked bar: a source's articles on a day (or in a month)."""

    x: float
    y: float
    width: float
    height: float
    color: str
    label: str


def articles_chart(facets: dict[str, Any]) -> dict[str, Any] | None:
    """Stacked bars of articles per day (or month) and source, as SVG geometry; None when undated."""
    entries = facets["by_day_source"]
    if not entries:
        return None
    top = [item["value"] for item in facets["sources"][: len(PALETTE) - 1]]
    colors = dict(zip(top, PALETTE, strict=False))  # the last colour is for the rest
    days = [date.fromisoformat(item["day"]) for item in entries]
    monthly = (max(days) - min(days)).days > DAILY_SPAN

    def bucket(day: date) -> date:
        return day.replace(day=1) if monthly else day

    buckets = [bucket(min(days))]
    while buckets[-1] < bucket(max(days)):
        following = buckets[-1] + timedelta(days=32 if monthly else 1)
        buckets.append(bucket(following))
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item, day in zip(entries, days, strict=True):
        counts[bucket(day)][item["source"] if item["source"] in colors else "other sources"] += item["count"]
    highest = max(sum(series.values()) for series in counts.values())
    width = CHART_WIDTH / len(buckets)
    bars = []
    for index, when in enumerate(buckets):
        bottom = float(CHART_HEIGHT)
        label_when = when.strftime("%Y-%m") if monthly else when.isoformat()
        for name in [*top, "other sources"]:
            count = counts[when].get(name, 0)
            if count:
                height = count / highest * CHART_HEIGHT
                bottom -= height
                bars.append(Bar(index * width + width * 0.1, bottom, width * 0.8, height,
                                colors.get(name, PALETTE[-1]), f"{label_when} · {name}: {count}"))
    legend = [(name, colors[name]) for name in top]
    if any("other sources" in series for series in counts.values()):
        legend.append(("other sources", PALETTE[-1]))
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "bars": bars, "legend": legend, "highest": highest,
            "first": buckets[0], "last": buckets[-1], "unit": "month" if monthly else "day"}


def _url_with(request: Request, path: str | None = None, **changes: str | None) -> str:
    """This page's URL (or ``path``) with some parameters set (None: removed), the page cursor dropped."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes and k != "cursor" and v]
    items += [(k, v) for k, v in changes.items() if v is not None]
    return (path or request.url.path) + ("?" + urlencode(items) if items else "")


def web_routes(catalogue: Catalogue) -> list[BaseRoute]:
    """The pages' routes, to mount at the root, and their stylesheet at /assets."""
    templates = Jinja2Templates(directory=WEB / "templates")
    templates.env.globals["url_with"] = _url_with

    def search(request: Request) -> Response:
        try:
            params = parse_query(PageParams, request.query_params, blank_is_absent=True)
            query = params.article_query(limit=PAGE_SIZE)
        except ParameterError as exc:
            return templates.TemplateResponse(request, "search.html", {"error": exc, "values": {}},
                                              status_code=400)
        page = search_page(catalogue, query)
        facets = facet_counts(catalogue, query)
        next_url = None
        if page.next_cursor:
            next_url = str(request.url.include_query_params(cursor=page.next_cursor))
        values = params.model_dump(by_alias=True, exclude_unset=True)  # what the form was sent, by name
        return templates.TemplateResponse(request, "search.html", {
            "values": values, "page": page, "facets": facets, "next_url": next_url, "chart": articles_chart(facets),
        })

    def article(request: Request) -> Response:
        raw = request.path_params["id"]
        found = get_article(catalogue, int(raw)) if raw.isdigit() else None
        if found is None:
            return templates.TemplateResponse(request, "error.html", {"message": f"No article {raw}."},
                                              status_code=404)
        return templates.TemplateResponse(request, "article.html", {"article": found})

    def runs(request: Request) -> Response:
        try:
            params = parse_query(RunParams, request.query_params, blank_is_absent=True)
        except ParameterError as exc:
            return templates.TemplateResponse(request, "error.html", {"message": str(exc)}, status_code=400)
        limit = params.limit if "limit" in params.model_fields_set else RUNS_PAGE_SIZE
        rows = list_runs(catalogue, params.source, limit)
        return templates.TemplateResponse(request, "runs.html", {"runs": rows, "source": params.source})

    return [
        Route("/", search),
        Route("/articles/{id}", article),
        Route("/runs", runs),
        Mount("/assets", StaticFiles(directory=WEB / "static"), name="assets"),
    ]
