"""/api/articles: search and list articles a page at a time; /api/articles/{id}: one in full."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request

from archive.web.api.dependencies import CatalogueDep, from_query
from archive.web.api.models import ArticleDetail, ArticlePage, Error
from archive.web.api.params import ArticleParams, NoParams
from archive.query.articles import get_article
from archive.query.search import MAX_ID, project, search_page

router = APIRouter(tags=["articles"])


@router.get("/articles", response_model=ArticlePage, response_model_exclude_unset=True)
def articles(request: Request, catalogue: CatalogueDep,
             params: Annotated[ArticleParams, from_query(ArticleParams)]) -> dict[str, Any]:
    """Search and list articles, a page at a time."""
    fields = params.field_names()
    page = search_page(catalogue, params.article_query())
    next_url = None
    if page.next_cursor:
        next_url = str(request.url.include_query_params(cursor=page.next_cursor))
    return {"articles": [project(article, fields) for article in page.articles],
            "next_cursor": page.next_cursor, "next": next_url}


@router.get("/articles/{id}", response_model=ArticleDetail,
            responses={404: {"model": Error, "description": "No such article"}})
def article(catalogue: CatalogueDep, id: Annotated[int, Path(ge=1, le=MAX_ID, description="The article's id.")],
            _params: Annotated[NoParams, from_query(NoParams)]) -> dict[str, Any]:
    """One article with its URLs, versions, duplicates and captures."""
    found = get_article(catalogue, id)
    if found is None:
        raise HTTPException(404, f"no article {id}")
    return found
