"""Scheduled crawls: the APScheduler service (``service``) and the crawl processes it runs (``crawl_job``)."""
