"""The web console's files over HTTP (ConsoleFunction: GET /console and /console/{proxy+}).

Static files (HTML, CSS, JavaScript modules, SVG: text only, so the REST API needs no binary
media types) read from the function's own folder, served from the API's origin so the console
calls the API without CORS. No authorizer: the files hold no data; every figure the console shows
comes from the public API, called with the key the user types (kept in the tab's sessionStorage).

Every answer carries a strict Content-Security-Policy: scripts, styles and images from this
origin only (no inline script or style, no eval), connections to this origin and to where the CSV
imports upload (the presigned S3 URL's origin, which botocore computes locally without a
request), no framing, no forms posting elsewhere, no <base> rewriting.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8",
         ".json": "application/json", ".md": "text/plain; charset=utf-8"}
INDEX = "index.html"
JSON = "application/json"
MAX_NAME_CHARS = 200


def serve(event: dict[str, Any], root: Path) -> dict[str, Any]:
    """One GET: a file of ``root`` (with an ETag: a repeated load answers 304), or a redirect to the
    console's index, or 404."""
    if event.get("httpMethod") not in ("GET", "HEAD"):
        return _answer(405, JSON, b'{"detail": "Method not allowed"}')
    name = ((event.get("pathParameters") or {}).get("proxy") or "").strip("/")
    if not name:  # /console: the index's relative links need the folder's URL
        path = event.get("path") or ""
        return _answer(302, "text/plain; charset=utf-8", b"", {"Location": INDEX if path.endswith("/") else
                                                                f"{path.rstrip('/').rsplit('/', 1)[-1]}/{INDEX}"})
    found = _file(str(root), name)
    if found is None:
        return _answer(404, JSON, b'{"detail": "Not found"}')
    body, etag, content_type = found
    if _header(event, "If-None-Match") == etag:
        return _answer(304, content_type, b"", {"ETag": etag})
    return _answer(200, content_type, body, {"ETag": etag})


@lru_cache(maxsize=64)
def _file(root: str, name: str) -> tuple[bytes, str, str] | None:
    """(content, ETag, type) of a file inside ``root`` of a known type, read once per container."""
    if len(name) > MAX_NAME_CHARS or not name.isprintable():
        return None
    base = Path(root).resolve()
    try:
        path = (base / name).resolve()
        if base not in path.parents or not path.is_file() or path.suffix not in TYPES:
            return None  # outside the folder (../), a folder, or a kind of file the console does not serve
        body = path.read_bytes()
    except (OSError, ValueError):  # a name the file system cannot take
        return None
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', TYPES[path.suffix]


def _answer(status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "isBase64Encoded": False, "body": body.decode("utf-8"),
            "headers": {"Content-Type": content_type, **security_headers(), **(headers or {})}}


@lru_cache(maxsize=1)
def security_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(upload_origin()),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Strict-Transport-Security": "max-age=31536000",
        "Cache-Control": "no-cache",  # revalidated with the ETag: a deployment's new files show at once
    }


def content_security_policy(upload: str | None) -> str:
    connect = "'self'" + (f" {upload}" if upload else "")
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
            f"connect-src {connect}; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")


def upload_origin() -> str | None:
    """Where the browser PUTs a CSV import: the origin of a presigned URL for the imports bucket
    (signing is local: no request is made)."""
    bucket = os.environ.get("CAMPAIGN_IMPORTS_BUCKET")
    if not bucket:
        return None
    from outbound import aws

    url = aws.client("s3").generate_presigned_url("put_object", ExpiresIn=60,
                                                  Params={"Bucket": bucket, "Key": "imports/origin.csv"})
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    return None
