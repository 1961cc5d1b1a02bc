"""The pure parts behind the web console: its file serving (paths, redirects, headers) and a
campaign's figures from its calls (buckets, the recipient's local hour)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from outbound.campaigns import stats
from outbound.http import console

ROOT = console.Path(__file__).resolve().parents[2] / "functions" / "console" / "static"
NOW = datetime(2030, 1, 15, 14, 30, 20, tzinfo=timezone.utc)


def get(proxy=None, path="/console/x", headers=None):
    return console.serve({"httpMethod": "GET", "path": path, "headers": headers or {},
                          "pathParameters": {"proxy": proxy} if proxy is not None else None}, ROOT)


def test_files_redirects_and_refusals():
    index = get("index.html")
    assert index["statusCode"] == 200 and index["headers"]["Content-Type"].startswith("text/html")
    assert get("js/app.js")["headers"]["Content-Type"].startswith("text/javascript")
    assert get(None, path="/console")["headers"]["Location"] == "console/index.html"
    assert get(None, path="/v1/console/")["headers"]["Location"] == "index.html"
    assert get("index.html", headers={"if-none-match": index["headers"]["ETag"]})["statusCode"] == 304
    for name in ("../app.py", "js/../../app.py", "vendor", "nothing.js", "a\x00b.js", "x" * 300, "/etc/passwd"):
        answer = get(name)
        assert answer["statusCode"] == 404 and answer["body"] == '{"detail": "Not found"}', name
    assert console.serve({"httpMethod": "POST", "path": "/console/index.html"}, ROOT)["statusCode"] == 405


def test_the_policy_allows_only_this_origin_and_the_upload():
    policy = console.content_security_policy("https://imports.s3.amazonaws.com")
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "connect-src 'self' https://imports.s3.amazonaws.com;" in policy
    assert "unsafe" not in policy and "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy
    assert "connect-src 'self';" in console.content_security_policy(None)


def call(created: datetime, status: str | None = None, answered: bool = False, zone: str | None = None) -> dict:
    iso = lambda at: at.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
    return {"created_at": iso(created), "status": status or "queued", "recipient_timezone": zone,
            "answered_at": iso(created + timedelta(seconds=5)) if answered else None,
            "ended_at": iso(created + timedelta(seconds=60)) if status else None}


def test_outcome_buckets_grow_with_the_campaigns_span():
    short = stats._outcomes([call(NOW - timedelta(minutes=10), "completed", True)], NOW)
    assert short["bucket_minutes"] == 1 and len(short["buckets"]) == 11
    assert sum(b["completed"] for b in short["buckets"]) == 1
    day = stats._outcomes([call(NOW - timedelta(hours=20), "busy"), call(NOW - timedelta(minutes=3), "failed")], NOW)
    assert day["bucket_minutes"] == 60 and day["buckets"][0]["start"].endswith("T18:00:00.000Z")
    assert sum(b["busy"] for b in day["buckets"]) == 1 and sum(b["failed"] for b in day["buckets"]) == 1
    assert stats._outcomes([], NOW) == {"bucket_minutes": 1, "buckets": []}


def test_answer_rate_by_the_recipients_own_hour():
    calls = [call(NOW, "completed", True, "America/New_York"),  # 09:30 in New York
             call(NOW, "no-answer", False, "America/New_York"),
             call(NOW, "completed", True, "Asia/Tokyo"),  # 23:30 in Tokyo
             call(NOW, None, False, "Asia/Tokyo"),  # still running: not counted
             call(NOW, "busy", False, None)]  # the campaign's zone (UTC): 14h
    hours = {h["hour"]: h for h in stats._answer_rate_by_hour(calls, "UTC") if h["attempts"]}
    assert hours == {9: {"hour": 9, "attempts": 2, "answered": 1, "answer_rate": 0.5},
                     23: {"hour": 23, "attempts": 1, "answered": 1, "answer_rate": 1.0},
                     14: {"hour": 14, "attempts": 1, "answered": 0, "answer_rate": 0.0}}


def test_dials_per_minute_cover_the_last_half_hour():
    series = stats._minute_counts([call(NOW), call(NOW - timedelta(seconds=30)), call(NOW - timedelta(hours=2))], NOW)
    assert len(series) == 30 and series[-1] == {"minute": "2030-01-15T14:30:00.000Z", "dials": 1}
    assert sum(m["dials"] for m in series) == 2
