"""The local S3's check of presigned URLs, as S3 makes it: moto accepts any request to a
presigned URL, so a client that leaves out a header the URL signed (the import's
``Content-Type: text/csv``) would work locally and be refused by S3.

S3 recomputes the Signature Version 4 signature of the request it received (method, path, query
without the signature, the values of the headers named in ``X-Amz-SignedHeaders``, an unsigned
payload) with the signer's secret key, and refuses the request when it differs, when the URL has
expired, or when the access key is unknown, each with its own XML error (403). Here the keys are
the local stack's own (``local``/``local``, what every local function signs with).
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote

ALGORITHM = "AWS4-HMAC-SHA256"
SECRET_KEYS = {"local": "local"}  # access key id -> secret key (outbound_local.stack's credentials)
ERRORS = {
    "SignatureDoesNotMatch": "The request signature we calculated does not match the signature you provided. "
                             "Check your key and signing method.",
    "AccessDenied": "Request has expired",
    "InvalidAccessKeyId": "The AWS Access Key Id you provided does not exist in our records.",
    "AuthorizationQueryParametersError": "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                                         "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                                         "and X-Amz-Expires parameters.",
}
REQUIRED = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders")


def is_presigned_s3(environ: dict) -> bool:
    """A request to a Signature V4 presigned URL whose credential scope is S3's."""
    query = environ.get("QUERY_STRING", "")
    return "X-Amz-Signature=" in query and "%2Fs3%2Faws4_request" in query


def refusal(environ: dict, now: datetime | None = None) -> str | None:
    """The S3 error code that refuses this presigned request, or None when S3 would accept it."""
    params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    given = dict(params)
    if any(name not in given for name in REQUIRED) or given["X-Amz-Algorithm"] != ALGORITHM:
        return "AuthorizationQueryParametersError"
    scope = given["X-Amz-Credential"].split("/")
    if len(scope) != 5:
        return "AuthorizationQueryParametersError"
    secret = SECRET_KEYS.get(scope[0])
    if secret is None:
        return "InvalidAccessKeyId"
    try:
        signed_at = datetime.strptime(given["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        expires = int(given["X-Amz-Expires"])
    except ValueError:
        return "AuthorizationQueryParametersError"
    expected = _signature(environ, params, given["X-Amz-SignedHeaders"], given["X-Amz-Date"], scope, secret)
    if not hmac.compare_digest(expected, given.get("X-Amz-Signature", "")):
        return "SignatureDoesNotMatch"
    if ((now or datetime.now(timezone.utc)) - signed_at).total_seconds() > expires:
        return "AccessDenied"
    return None


def _signature(environ: dict, params: list[tuple[str, str]], signed_headers: str, amz_date: str,
               scope: list[str], secret: str) -> str:
    path = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")).split("?", 1)[0]
    query = "&".join(sorted(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                            for k, v in params if k != "X-Amz-Signature"))
    headers = "".join(f"{name}:{' '.join(_header(environ, name).split())}\n" for name in signed_headers.split(";"))
    canonical = "\n".join((environ["REQUEST_METHOD"], path, query, headers, signed_headers, "UNSIGNED-PAYLOAD"))
    to_sign = "\n".join((ALGORITHM, amz_date, "/".join(scope[1:]), hashlib.sha256(canonical.encode()).hexdigest()))
    key = ("AWS4" + secret).encode()
    for part in scope[1:]:  # date, region, service, "aws4_request"
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _header(environ: dict, name: str) -> str:
    """A request header's value as received ("" when the request does not carry it: then the
    signature cannot match, as at S3)."""
    key = name.upper().replace("-", "_")
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return environ.get(key) or ""
    return environ.get("HTTP_" + key) or ""


def error_body(code: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{ERRORS[code]}</Message>'
            "<RequestId>local</RequestId><HostId>local</HostId></Error>").encode()
