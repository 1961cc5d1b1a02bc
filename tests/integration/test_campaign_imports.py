"""Adding contacts in-process (the real use cases over moto): never to a closed campaign, even one
closed after it was read; a CSV import interrupted by a passing error is resumed by the message's
retry, and marked failed when its last retry fails too. (Uploads end to end over HTTP:
test_campaigns_http.py.)"""
from __future__ import annotations

import json
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


def upload_event(key: str, receive_count: int) -> dict:
    """The SQS message S3's notification of ``key`` makes, as Lambda hands it to the function on
    its ``receive_count``-th receipt."""
    notification = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": os.environ["CAMPAIGN_IMPORTS_BUCKET"]}, "object": {"key": key}}}]}
    return {"Records": [{
        "messageId": f"msg-{receive_count}", "receiptHandle": "handle", "body": json.dumps(notification),
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1700000000000",
                       "SenderId": "s3", "ApproximateFirstReceiveTimestamp": "1700000000000"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:CampaignImportsQueue", "awsRegion": "us-east-1"}]}


def comes_back(event: dict) -> bool:
    """Whether CampaignImportFunction leaves the message in the queue (for a retry, or the DLQ)."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
    from outbound_local import functions

    try:
        result = functions.invoke("CampaignImportFunction", event)
    except BatchProcessingError:  # every record of the batch failed: Lambda returns them all
        return True
    failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
    return event["Records"][0]["messageId"] in failed


def test_an_import_whose_last_retry_fails_is_marked_failed(stack):
    """The queue redrives a message to the dead-letter queue after maxReceiveCount receipts: the
    receipt that is the last one marks the import failed (the user learns it will not finish)
    and still reports the failure, so the message reaches the DLQ and its alarm."""
    from outbound.campaigns import imports as campaign_imports

    campaign_id = new_campaign(contacts=0)
    zone = zone_at(12)
    rows = "".join(f"+1212557{i:04d},{zone}\n" for i in range(3))
    import_id, key = upload(campaign_id, "phone_number,timezone\n" + rows)
    stack.aws.app.add_fault("TransactWriteItems", "InternalServerError", 10_000)  # the table fails, for good
    try:
        assert comes_back(upload_event(key, 1))
        assert campaign_imports.get_import(ORG, campaign_id, import_id)["status"] == "processing"  # to be retried
        assert comes_back(upload_event(key, 3))  # template.yaml: maxReceiveCount 3
    finally:
        stack.aws.app.clear_faults()
    failed = campaign_imports.get_import(ORG, campaign_id, import_id)
    assert failed["status"] == "failed" and "3 attempts" in failed["failure"], failed
    assert "upload the file again" in failed["failure"]


def test_an_import_whose_last_delivery_runs_out_of_time_is_marked_failed(stack, monkeypatch):
    """Lambda ends a run at its timeout without a word: on the message's last delivery the import
    stops before the timeout (LAST_CHUNK_MARGIN_S) and is marked failed rather than left
    processing. Here the function's timeout (20 s) is already inside that margin."""
    from outbound.campaigns import imports as campaign_imports

    campaign_id = new_campaign(contacts=0)
    zone = zone_at(12)
    rows = "".join(f"+1212557{i:04d},{zone}\n" for i in range(10, 15))
    import_id, key = upload(campaign_id, "phone_number,timezone\n" + rows)
    monkeypatch.setattr(campaign_imports, "CHUNK_ROWS", 2)
    monkeypatch.setenv("OUTBOUND_LOCAL_FUNCTION_TIMEOUT_S", "20")
    assert comes_back(upload_event(key, 3))
    failed = campaign_imports.get_import(ORG, campaign_id, import_id)
    assert failed["status"] == "failed" and "time limit" in failed["failure"], failed
    assert failed["failure"].startswith("The import could not finish in 3 attempts")
