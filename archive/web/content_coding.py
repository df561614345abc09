"""HTTP content codings (RFC 9110 §8.4): undoing one, and whether a client accepts one.

Replay serves an archived body in the Content-Encoding it was captured with when the
client accepts that coding, and decoded otherwise.
"""

from __future__ import annotations

import gzip
import zlib

import brotli


def decode_content(body: bytes, encoding: str | None) -> bytes:
    """The body without its Content-Encoding (gzip, deflate, br, or a list of them).

    Raises ValueError for an encoding it does not know, and the codec's error for a body
    that does not decode.
    """
    for coding in reversed([c.strip().lower() for c in (encoding or "").split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip"):
            body = gzip.decompress(body)
        elif coding == "deflate":  # zlib-wrapped as specified, or raw as some servers send it
            try:
                body = zlib.decompress(body)
            except zlib.error:
                body = zlib.decompress(body, -zlib.MAX_WBITS)
        elif coding == "br":
            body = brotli.decompress(body)
        elif coding != "identity":
            raise ValueError(f"unsupported Content-Encoding {coding!r}")
    return body


def accepts_encoding(accept_encoding: str, encoding: str) -> bool:
    """Whether an Accept-Encoding header allows every coding of ``encoding`` (``q=0`` refuses)."""
    accepted = {}
    for item in accept_encoding.lower().split(","):
        name, *params = (part.strip() for part in item.split(";"))
        weight = next((p[2:] for p in params if p.startswith("q=")), "1")
        try:
            accepted[name] = float(weight) > 0
        except ValueError:
            accepted[name] = True
    codings = [c.strip() for c in encoding.split(",") if c.strip()]
    return all(accepted.get(c, accepted.get("x-gzip" if c == "gzip" else c, accepted.get("*", False)))
               for c in codings)
