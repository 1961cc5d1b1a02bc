"""The import's presigned upload URL signs its Content-Type, and the local S3 holds a PUT to what
it signed, as S3 does: without the signed header, with another value, or with a changed URL the
PUT is refused (403 SignatureDoesNotMatch, S3's XML error) and nothing is imported; with the
headers the API answered (`upload_headers`, as the README shows) it is accepted."""
from __future__ import annotations

import subprocess

import pytest
import requests

from tests.conftest import OUTBOUND, ROOT, wait_for
from tests.integration.test_campaigns_http import call, create, daytime_zone, number

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(server):
    done = subprocess.run([*OUTBOUND, "seed", str(ROOT / "tests" / "fixtures" / "campaigns.json"),
                           "--local-server", server.url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return server


def new_upload(api) -> tuple[str, dict]:
    campaign_id = create(api)
    created = call(api, "POST", f"/campaigns/{campaign_id}/imports")
    assert created.status_code == 201, created.text
    return campaign_id, created.json()


def refused(response: requests.Response, code: str = "SignatureDoesNotMatch") -> bool:
    return response.status_code == 403 and f"<Code>{code}</Code>" in response.text


def test_a_put_without_the_signed_content_type_is_refused_as_s3_refuses_it(api):
    campaign_id, upload = new_upload(api)
    assert upload["upload_headers"] == {"Content-Type": "text/csv"}
    assert "content-type" in requests.utils.urlparse(upload["upload_url"]).query.lower()  # signed, in the URL
    body = f"phone_number,timezone,name\n{number()},{daytime_zone()},Ada\n".encode()
    assert refused(requests.put(upload["upload_url"], data=body, timeout=30))
    assert refused(requests.put(upload["upload_url"], data=body, headers={"Content-Type": "text/plain"}, timeout=30))
    other_id = upload["import_id"][:-1] + ("1" if upload["import_id"].endswith("0") else "0")  # never the same id
    tampered = upload["upload_url"].replace(upload["import_id"], other_id)
    assert refused(requests.put(tampered, data=body, headers=upload["upload_headers"], timeout=30))
    status = call(api, "GET", f"/campaigns/{campaign_id}/imports/{upload['import_id']}").json()
    assert status["status"] == "waiting_upload"  # nothing arrived

    accepted = requests.put(upload["upload_url"], data=body, headers=upload["upload_headers"], timeout=30)
    assert accepted.status_code == 200, accepted.text
    done = wait_for(lambda: (i := call(api, "GET", f"/campaigns/{campaign_id}/imports/{upload['import_id']}").json())
                    ["status"] == "completed" and i, timeout=60, what="the import")
    assert done["added"] == 1


def test_an_expired_upload_url_is_refused(api):
    _, upload = new_upload(api)
    expired = upload["upload_url"].replace("X-Amz-Expires=900", "X-Amz-Expires=0")
    response = requests.put(expired, data=b"phone_number\n", headers=upload["upload_headers"], timeout=30)
    assert response.status_code == 403  # the signature covers X-Amz-Expires: changed, it no longer matches


def test_the_readme_shows_the_upload_with_its_headers():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'curl -X PUT "$UPLOAD_URL" -H "Content-Type: text/csv" --data-binary @contacts.csv' in text


def test_a_browsers_preflight_is_answered_unauthenticated_as_s3_answers_it(api):
    """The console uploads from the browser: its CORS preflight (OPTIONS, which carries no
    signature of its own) is answered from the bucket's CORS rules, not refused as a bad signature."""
    _, upload = new_upload(api)
    preflight = requests.options(upload["upload_url"], timeout=30, headers={
        "Origin": api.url, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers.get("Access-Control-Allow-Origin") in (api.url, "*")
