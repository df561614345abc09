"""Scrapy settings of the newsarchive crawler; newsarchive's own are in ``archive/config.py``.

Per-source politeness (``concurrency``, ``delay``, ``max_pages``) is applied on top of
these by ``NewsSpider.from_crawler``.
"""

from archive.config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_DELAY,
    DOWNLOAD_MAXSIZE as _MAXSIZE,
    USER_AGENT as _USER_AGENT,
    Settings,
)
from crawler.frontier import frontier_settings

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Where newsarchive writes; `newsarchive crawl` overrides these from its options, and a
# bare `scrapy crawl news` takes them from NEWSARCHIVE_* variables or the defaults.
_DEFAULTS = Settings.from_env()
NEWSARCHIVE_DATA_DIR = str(_DEFAULTS.data_dir)
NEWSARCHIVE_DB = _DEFAULTS.db_url  # None: SQLite file in the data dir
NEWSARCHIVE_SOURCES = str(_DEFAULTS.sources_file)
NEWSARCHIVE_WARC_MAX_SIZE = _DEFAULTS.warc_max_size
NEWSARCHIVE_HOST = _DEFAULTS.host  # the host name the crawl's run record carries
NEWSARCHIVE_HEARTBEAT_INTERVAL = _DEFAULTS.heartbeat_interval  # archive/config.py says why
NEWSARCHIVE_HEARTBEAT_TIMEOUT = _DEFAULTS.heartbeat_timeout
# NEWSARCHIVE_REDIS=redis://...: the crawl joins workers sharing its frontier (crawler/frontier.py).
globals().update(frontier_settings(_DEFAULTS.redis_url))
NEWSARCHIVE_EXTRACT_MAX_BYTES = 5 * 1024 * 1024  # HTML given to trafilatura: the largest page of
#   the dev sets (243 pages) is 1.4 MB, extracted in 0.4 s; past 5 MiB a page is scripts or a trap
NEWSARCHIVE_EXTRACT_TIME_LIMIT = 10.0  # seconds per page: 25x the slowest dev page, room for a busy machine
NEWSARCHIVE_EXTRACT_WORKERS = 0  # processes for trafilatura; 0 = one per core
NEWSARCHIVE_NAV_DEPTH = 2  # links followed from start pages to reach sections; pagination goes on

AUTOTHROTTLE_ENABLED = True  # adapts the delay to the server's latency; off when a source says delay = 0
AUTOTHROTTLE_START_DELAY = DEFAULT_DELAY
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0  # news servers are small; 2 in flight is polite
CONCURRENT_ITEMS = 4  # outputs of one callback processed at once: Scrapy starts that many tasks for
#   every response, and its default (100) cost the crawl a fifth of its CPU; ours are a page's
#   requests and at most one item, whose pipeline does not wait on anything
CONCURRENT_REQUESTS = 32  # across sources in one process; per-host limits do the politeness
CONCURRENT_REQUESTS_PER_DOMAIN = DEFAULT_CONCURRENCY
COOKIES_ENABLED = False  # an archive wants what an anonymous reader sees
DOWNLOAD_DELAY = DEFAULT_DELAY
DOWNLOAD_MAXSIZE = _MAXSIZE  # longer bodies are cut there and archived truncated (crawler/size_limit.py);
#   decoded (gzip, brotli) bodies past it are dropped
DOWNLOAD_TIMEOUT = 30  # seconds; a news page slower than that is retried later
DOWNLOAD_WARNSIZE = 10 * 1024 * 1024
DOWNLOADER_MIDDLEWARES = {
    # 40: first of all, so nothing out of the source's scope is fetched, robots.txt (100) included.
    "crawler.scope.ScopeMiddleware": 40,
    # 950: nearer the network than decompression (590) and redirects (600), so every
    # exchange is archived as the server sent it, redirects and retries included.
    "crawler.warc_capture.WarcCaptureMiddleware": 950,
    # 940: its validators reach the archived request record (WARC capture, 950, comes after it
    # for requests); the 304 is archived as received, then replaced by the stored page, which
    # decompression (590) decodes like a fresh one.
    "crawler.conditional_get.ConditionalGetMiddleware": 940,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.retry.BackoffRetryMiddleware": 550,  # Scrapy's retry, re-scheduled after a wait that holds no slot
    # After RedirectMiddleware (600) has made the redirected request.
    "crawler.incremental.KnownArticleRedirects": 650,
}
EXTENSIONS = {
    "crawler.run_record.RunRecorder": 100,
    "crawler.size_limit.DownloadSizeLimit": 200,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ArticlePipeline": 300,
}
LOG_LEVEL = "INFO"
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REMOTE_CONTROL_ENABLED = False  # like telnet: an unattended crawler should not open a port
RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry, doubled for each next one
RETRY_BACKOFF_MAX = 60.0  # seconds: no retry waits longer, whatever Retry-After says
RETRY_TIMES = 2  # initial response + 2 retries = 3 requests
ROBOTSTXT_OBEY = True
TELNETCONSOLE_ENABLED = False  # an unattended crawler should not open a port
USER_AGENT = _USER_AGENT
