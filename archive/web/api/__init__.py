"""The JSON API over the catalogue, on FastAPI; ``create_api(catalogue)`` is mounted at ``/api``.

Laid out as FastAPI's "Bigger Applications": one router per resource, in a module named
after it (``articles``, ``sources``, ``runs``, ``stats``, ``export``), each a few lines
that call ``archive.query.search`` like the CLI does; ``params`` declares every query parameter
once, with its type, limits and description (the web page reads its query string with
the same models); ``models`` what each endpoint returns; ``dependencies`` what routes get
from FastAPI; ``app`` builds the app and its error contract. A package rather than one
module because these are separate jobs that change apart: a new filter is a line in
``params``, a new endpoint a router, and a reader finds ``/api/runs`` in ``runs.py``.
The OpenAPI document at ``/api/openapi.json`` is FastAPI's, written from all of them.
"""

from archive.web.api.app import create_api

__all__ = ["create_api"]
