"""The local S3's presigned-URL check against URLs botocore presigns (the way the service makes
its upload URLs): the request the URL describes is accepted, keys that need quoting included;
a missing or changed signed header, a changed query, an expired URL and an unknown key are not."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.config import Config

from outbound_local import s3_presigned


def presign(key: str, access_key: str = "local", expires: int = 900) -> str:
    client = botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:4566", aws_access_key_id=access_key,
        aws_secret_access_key="local", config=Config(signature_version="s3v4"))
    return client.generate_presigned_url("put_object", ExpiresIn=expires,
                                         Params={"Bucket": "imports-bucket", "Key": key, "ContentType": "text/csv"})


def environ(url: str, headers: dict[str, str], method: str = "PUT") -> dict:
    parts = urlsplit(url)
    env = {"REQUEST_METHOD": method, "QUERY_STRING": parts.query, "RAW_URI": f"{parts.path}?{parts.query}",
           "PATH_INFO": parts.path, "HTTP_HOST": parts.netloc}
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        env[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
    return env


@pytest.mark.parametrize("key", ["imports/org_a/cmp_1/imp_1.csv", "imports/a b+c/ü ~x.csv"])
def test_the_request_the_url_describes_is_accepted(key):
    url = presign(key)
    assert s3_presigned.is_presigned_s3(environ(url, {}))
    assert s3_presigned.refusal(environ(url, {"Content-Type": "text/csv"})) is None


@pytest.mark.parametrize("headers,method", [({}, "PUT"), ({"Content-Type": "text/plain"}, "PUT"),
                                            ({"Content-Type": "text/csv"}, "POST")])
def test_a_missing_or_changed_signed_part_does_not_match(headers, method):
    assert s3_presigned.refusal(environ(presign("imports/x.csv"), headers, method)) == "SignatureDoesNotMatch"


def test_a_changed_query_an_expired_url_and_an_unknown_key_are_refused():
    url = presign("imports/x.csv")
    ok = {"Content-Type": "text/csv"}
    assert s3_presigned.refusal(environ(url.replace("X-Amz-Expires=900", "X-Amz-Expires=9000"), ok)) \
        == "SignatureDoesNotMatch"
    later = datetime.now(timezone.utc) + timedelta(seconds=901)
    assert s3_presigned.refusal(environ(url, ok), now=later) == "AccessDenied"
    assert s3_presigned.refusal(environ(presign("imports/x.csv", access_key="AKIAOTHER"), ok)) == "InvalidAccessKeyId"
    assert s3_presigned.refusal(environ(url.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256&", ""), ok)) \
        == "AuthorizationQueryParametersError"
