"""Adding contacts in-process (the real use cases over moto): never to a closed campaign, even one
closed after it was read; a CSV import interrupted by a passing error is resumed by the message's
retry. (Uploads end to end over HTTP: test_campaigns_http.py.)"""
from __future__ import annotations

import os

import pytest

from tests.conftest import ROOT, in_process_stack
from tests.integration.test_campaign_engine import ORG, new_campaign, zone_at

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack():
    yield from in_process_stack(ROOT / "tests" / "fixtures" / "campaigns.json")


def upload(campaign_id, text):
    from outbound.campaigns import imports as campaign_imports

    created = campaign_imports.create_import(ORG, campaign_id)
    key = campaign_imports.object_key(ORG, campaign_id, created["import_id"])
    campaign_imports._s3().put_object(Bucket=os.environ["CAMPAIGN_IMPORTS_BUCKET"], Key=key, Body=text.encode())
    return created["import_id"], key


def test_an_import_interrupted_by_a_retryable_error_is_resumed_by_the_retry(stack, monkeypatch):
    from outbound.campaigns import imports as campaign_imports
    from outbound.errors import ServiceUnavailable

    campaign_id = new_campaign(contacts=0)
    zone = zone_at(12)
    text = "phone_number,timezone\n" + "".join(f"+1555558{i:04d},{zone}\n" for i in range(5))
    import_id, key = upload(campaign_id, text)
    monkeypatch.setattr(campaign_imports, "CHUNK_ROWS", 2)
    real, calls = campaign_imports.add_rows, []

    def add_rows(*args, **kwargs):  # the second chunk meets a throttled table
        calls.append(1)
        if len(calls) == 2:
            raise ServiceUnavailable("throttled")
        return real(*args, **kwargs)

    monkeypatch.setattr(campaign_imports, "add_rows", add_rows)
    bucket = os.environ["CAMPAIGN_IMPORTS_BUCKET"]
    with pytest.raises(ServiceUnavailable):
        campaign_imports.process_uploaded(bucket, key)
    assert campaign_imports.get_import(ORG, campaign_id, import_id)["status"] == "processing"
    result = campaign_imports.process_uploaded(bucket, key)  # the message's retry
    assert result == {"rows": 3, "added": 3, "errors": 0}  # the first chunk's 2 rows skipped
    done = campaign_imports.get_import(ORG, campaign_id, import_id)
    assert (done["status"], done["rows_processed"], done["added"], done["error_count"]) == ("completed", 5, 5, 0)


def test_an_unreadable_file_fails_the_import_for_good(stack):
    from outbound.campaigns import imports as campaign_imports

    campaign_id = new_campaign(contacts=0)
    import_id, key = upload(campaign_id, "number,name\n+12125580000,Ada\n")
    assert "failed" in campaign_imports.process_uploaded(os.environ["CAMPAIGN_IMPORTS_BUCKET"], key)
    failed = campaign_imports.get_import(ORG, campaign_id, import_id)
    assert failed["status"] == "failed" and "phone_number" in failed["failure"]


def test_contacts_cannot_be_added_to_a_campaign_closed_after_it_was_read(stack, monkeypatch):
    from outbound.campaigns import contacts as campaign_contacts
    from outbound.campaigns.models import ContactIn
    from outbound.errors import Conflict
    from outbound.store import campaigns as db

    campaign_id = new_campaign(contacts=1)
    read = db.get_campaign(campaign_id)  # draft, when the request read it
    db.move_campaign(campaign_id, ORG, ("draft",), "canceled")
    monkeypatch.setattr(campaign_contacts, "load", lambda organization_id, campaign_id: read)
    with pytest.raises(Conflict, match="is canceled: no contacts can be added"):
        campaign_contacts.add_contacts(ORG, campaign_id, [ContactIn(phone_number="+12125589999")])
    item = db.get_campaign(campaign_id)
    contacts, _ = db.list_contacts(campaign_id, None, 10)
    assert item["contacts_total"] == 1 and len(contacts) == 1
    assert {e["contact_id"] for e in db.due_entries(campaign_id, limit=10)} == {contacts[0]["contact_id"]}
