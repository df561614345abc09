"""Backoff before retries: doubled each time, Retry-After honoured, capped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from crawler.retry import backoff_delay


def test_delay_doubles_from_the_base_and_is_capped() -> None:
    assert [backoff_delay(n, base=2.0, cap=60.0) for n in (1, 2, 3, 6)] == [2.0, 4.0, 8.0, 60.0]


def test_retry_after_in_seconds_or_as_a_date_is_honoured_when_longer() -> None:
    assert backoff_delay(1, base=2.0, cap=60.0, retry_after="30") == 30.0
    assert backoff_delay(3, base=2.0, cap=60.0, retry_after="1") == 8.0
    in_20s = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15.0 < backoff_delay(1, base=2.0, cap=60.0, retry_after=in_20s) <= 20.0
    assert backoff_delay(1, base=2.0, cap=60.0, retry_after="3600") == 60.0
    assert backoff_delay(1, base=2.0, cap=60.0, retry_after="soon") == 2.0
