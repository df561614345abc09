"""The replay tests' news site: every kind of reference a page makes, a redirect, a page that changes.

``build_replay_site(root, base_url)`` writes, for :class:`tests.site_server.SiteServer`:

- ``/news/2026/story.html``, the article replay must show whole: a stylesheet that
  ``@import``s a chain of two more, a web font, a script, a ``<style>`` element and a
  ``style`` attribute with ``url()``, an image with ``srcset``, a ``<picture>``, a
  lazy-loaded ``data-src`` image, a video poster, an image on a CDN host (``localhost``,
  the site being ``127.0.0.1``: another host, listed in ``requisite_hosts``), a link to
  another article and one to a site that is not archived. ``/media/pic.png`` has the same
  bytes as ``/media/lead.png``, so it is archived as a revisit of another URL.
- ``/news/2026/changing.html``, whose text :func:`change_page` replaces between two crawls;
- ``/news/2026/latin1.html``, served as ISO-8859-1;
- ``/go/story``, a 301 to the story, and ``/refresh.html``, a meta refresh to it;
- a home page linking all of them.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.site_builder import write_file
from tests.site_server import BASE_PLACEHOLDER as BASE
from tests.site_server import SITE_CONFIG

STORY = "/news/2026/story.html"
CHANGING = "/news/2026/changing.html"
LATIN1 = "/news/2026/latin1.html"
REDIRECT = "/go/story"
REFRESH = "/refresh.html"
STORY_MARKER = "Lighthouse keepers celebrate the reopening of the old harbour"
FIRST_VERSION, SECOND_VERSION = "First version of the changing story.", "Second version, corrected."
IMAGES = {  # path -> (width, height, colour): distinct bytes, except the copy
    "/media/lead.png": (64, 32, (200, 40, 40)),
    "/media/lead-2x.png": (128, 64, (200, 40, 40)),
    "/media/pic-wide.png": (48, 16, (40, 160, 40)),
    "/media/bg.png": (8, 8, (230, 230, 250)),
    "/media/base-bg.png": (8, 8, (250, 240, 200)),
    "/media/deep.png": (8, 8, (220, 250, 220)),
    "/media/inline-style.png": (8, 8, (250, 220, 220)),
    "/media/attr-style.png": (8, 8, (220, 220, 250)),
    "/media/lazy.png": (16, 16, (90, 90, 90)),
    "/media/poster.png": (16, 16, (10, 10, 120)),
    "/media/icon.png": (16, 16, (255, 200, 0)),
    "/cdn/photo.png": (40, 40, (0, 120, 200)),
}
COPY_OF_LEAD = "/media/pic.png"
FONT = "/static/fonts/body.woff2"


@dataclass(frozen=True)
class ReplaySite:
    root: Path
    base_url: str  # http://127.0.0.1:PORT, the site's own host
    cdn_url: str  # http://localhost:PORT, the same server under another host name

    def sources_toml(self) -> str:
        """The source ``replay-site``: articles under /news/, the CDN host for requisites, refreshed on every crawl."""
        return (
            "[[source]]\n"
            'name = "replay-site"\n'
            f'start_urls = ["{self.base_url}/"]\n'
            "allow = ['/news/\\d{4}/']\n"
            'requisite_hosts = ["localhost"]\n'
            "delay = 0\n"
            "concurrency = 8\n"
            "refresh_hours = 10000  # fetch the articles again on the second crawl\n"
        )


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A valid PNG image of one colour."""
    rows = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def build_replay_site(root: Path, base_url: str) -> ReplaySite:
    """Write the site in ``root`` for a server already listening at ``base_url`` (http://127.0.0.1:PORT)."""
    cdn_url = base_url.replace("127.0.0.1", "localhost")
    for path, (width, height, colour) in IMAGES.items():
        write_file(root, path, png(width, height, colour))
    write_file(root, COPY_OF_LEAD, png(*IMAGES["/media/lead.png"]))
    write_file(root, FONT, bytes(range(256)) * 4)  # a font's bytes, as far as archiving cares
    write_file(root, "/static/main.css",
               '@import url("base.css");\n'
               '@font-face { font-family: "Body"; src: url("fonts/body.woff2") format("woff2"); }\n'
               "body { background: #fff url(../media/bg.png) repeat-x; }\n")
    write_file(root, "/static/base.css",
               "@import 'deep.css';\n.lead { background-image: url('/media/base-bg.png'); }\n")
    write_file(root, "/static/deep.css", "h1 { background: url(../media/deep.png); }\n")
    write_file(root, "/static/app.js",
               'document.addEventListener("DOMContentLoaded", function () {\n'
               '  document.body.setAttribute("data-script-ran", "yes");\n});\n')
    write_file(root, STORY, f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>The harbour reopens | Replay Times</title>
<link rel="stylesheet" href="/static/main.css">
<link rel="preload" as="font" type="font/woff2" href="{FONT}" crossorigin>
<link rel="icon" href="/media/icon.png">
<link rel="canonical" href="{BASE}{STORY}">
<script src="/static/app.js"></script>
<style>.hero {{ background-image: url('/media/inline-style.png'); }}</style>
</head>
<body>
<h1>The harbour reopens</h1>
<p class="lead" id="marker">{STORY_MARKER}.</p>
<img id="lead" src="/media/lead.png" srcset="/media/lead.png 1x, /media/lead-2x.png 2x" alt="The harbour" width="64" height="32">
<picture><source srcset="/media/pic-wide.png" media="(min-width: 10px)"><img id="pic" src="{COPY_OF_LEAD}" alt="Boats"></picture>
<div class="hero" style="background: url(&quot;/media/attr-style.png&quot;) no-repeat">The quay</div>
<img id="cdn" src="{cdn_url}/cdn/photo.png" alt="From the CDN" width="40" height="40">
<img id="lazy" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==" data-src="/media/lazy.png" alt="Lazy">
<video poster="/media/poster.png" width="16" height="16"></video>
<p>The old harbour reopened on Monday after two years of works. Fishing boats were the first to return.</p>
<p><a id="next" href="{CHANGING}">The changing story</a> · <a id="external" href="https://elsewhere.example/news">Elsewhere</a> · <a href="#marker">Top</a></p>
</body>
</html>
""")
    change_page(root, FIRST_VERSION)
    write_file(root, LATIN1, (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="iso-8859-1"><title>Un caf\xe9</title></head>\n'
        '<body><h1>Un caf\xe9 \xe0 Tiznar</h1><img src="/media/lead.png" alt="\xe9t\xe9">'
        "<p>Le caf\xe9 du port rouvre ses portes.</p></body></html>\n").encode("latin-1"))
    write_file(root, REFRESH, f'<!DOCTYPE html>\n<html><head><meta http-equiv="refresh" content="0; url={STORY}">'
                              "<title>Moved</title></head><body>Moved.</body></html>\n")
    links = "".join(f'<li><a href="{path}">{path}</a></li>' for path in (STORY, CHANGING, LATIN1, REDIRECT, REFRESH))
    write_file(root, "/", f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Replay Times</title>'
                          f"</head><body><ul>{links}</ul></body></html>\n")
    write_file(root, "/robots.txt", "User-agent: *\nAllow: /\n")
    write_file(root, "/" + SITE_CONFIG,
               f'[redirects]\n"{REDIRECT}" = "{STORY}"\n\n'
               f'[headers."{LATIN1}"]\nContent-Type = "text/html; charset=iso-8859-1"\n')
    return ReplaySite(root=root, base_url=base_url, cdn_url=cdn_url)


def change_page(root: Path, text: str) -> None:
    """(Re)write the changing article with ``text`` as its body."""
    write_file(root, CHANGING, f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>The changing story</title>
<link rel="stylesheet" href="/static/main.css"></head>
<body><h1>The changing story</h1><p id="version">{text}</p>
<p>A story that the newsroom corrected after it was first published, with more words so that it is an article.</p>
</body></html>
""")
