"""Least privilege in template.yaml, kept so: each grant below was narrowed after an audit of what
the code does (issue 18), and this test fails if one of them widens again.

- Whole-table DynamoDB writes are limited with ``dynamodb:LeadingKeys`` where a function touches one
  key prefix; the prefixes are checked against the keys the code itself builds (outbound.store.keys),
  so renaming a key without the policy (or the other way round) fails here, not in AWS.
- No permission the code never uses (``scheduler:GetSchedule``).
- A queue policy that lets an AWS service send also names the resources it may send for
  (``aws:SourceArn``), not just the account.
- EventBridge Scheduler's role invokes ScheduledCallFunction itself, not its versions (``:*``).
"""
from __future__ import annotations

import json

import pytest

from outbound.store import keys
from outbound_local.template import TEMPLATE_PATH, Template

TEMPLATE = Template(TEMPLATE_PATH)
R = TEMPLATE.resources
TABLE = {"Fn::GetAtt": ["CallsTable", "Arn"]}
DYNAMODB_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def actions(statement: dict) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else list(statement["Action"])


def statements(function: str) -> list[dict]:
    return [s for policy in R[function]["Properties"].get("Policies", []) if isinstance(policy, dict)
            for s in policy.get("Statement", [])]


def leading_keys(statement: dict) -> list[str] | None:
    condition = statement.get("Condition", {}).get("ForAllValues:StringLike", {})
    return condition.get("dynamodb:LeadingKeys")


def grants_on_table(function: str, action: str) -> list[dict]:
    return [s for s in statements(function) if action in actions(s) and s["Resource"] == TABLE]


# (function, action) -> the only partition keys it may touch, and a key the code builds for each.
NARROWED = {
    ("ApiKeyAuthorizerFunction", "dynamodb:GetItem"): {"APIKEY#*": keys.api_key_key(keys.hash_api_key("sk_x"))},
    ("CallEventsFunction", "dynamodb:Query"): {"ORG#*": keys.webhook_endpoint_key("org_a", "we_1")},
    ("CallEventsFunction", "dynamodb:PutItem"): {"EVENTS#*": keys.webhook_delivery_key("call_1", 1, "we_1")},
    ("WebhookDeliveryFunction", "dynamodb:BatchGetItem"): {
        "EVENTS#*": keys.webhook_delivery_key("call_1", 1, "we_1"), "ORG#*": keys.webhook_endpoint_key("org_a", "we_1")},
    ("WebhookDeliveryFunction", "dynamodb:UpdateItem"): {"EVENTS#*": keys.webhook_delivery_key("call_1", 1, "we_1")},
    ("CampaignOutcomesFunction", "dynamodb:UpdateItem"): {"CAMPAIGN#*": keys.contact_key("cmp_1", "k_1")},
    ("CampaignDispatcherFunction", "dynamodb:PutItem"): {
        "CAMPAIGN#*": keys.due_key("cmp_1", "2026-01-01T00:00:00Z", "k_1"), "LEDGER#*": {"pk": "LEDGER#org_a"}},
    ("CampaignDispatcherFunction", "dynamodb:DeleteItem"): {
        "CAMPAIGN#*": keys.due_key("cmp_1", "2026-01-01T00:00:00Z", "k_1")},
    **{("CampaignImportFunction", action): {"CAMPAIGN#*": keys.import_key("cmp_1", "imp_1")}
       for action in ("dynamodb:PutItem", "dynamodb:UpdateItem")},
    ("ProviderCallbacksFunction", "dynamodb:PutItem"): {"LEDGER#*": {"pk": "LEDGER#org_a"},
                                                        "PROVIDER_EVENT#*": {"pk": "PROVIDER_EVENT#twilio#CA1"}},
    ("ReserveSweeperFunction", "dynamodb:PutItem"): {"LEDGER#*": {"pk": "LEDGER#org_a"}},
    ("ProviderReconcileFunction", "dynamodb:PutItem"): {"LEDGER#*": {"pk": "LEDGER#org_a"}},
}


@pytest.mark.parametrize("function, action", sorted(NARROWED))
def test_a_function_that_touches_one_key_prefix_is_limited_to_it(function, action):
    grants = grants_on_table(function, action)
    assert grants, f"{function} has no {action} on the table (the audit's narrowing was removed?)"
    for grant in grants:  # every grant of it is narrowed: an unconditioned one would undo the rest
        assert sorted(leading_keys(grant) or []) == sorted(NARROWED[(function, action)]), (function, action, grant)
    for pattern, key in NARROWED[(function, action)].items():
        assert key["pk"].startswith(pattern.removesuffix("*")), (pattern, key)


# Functions whose writes span several entities (an initiate writes the call, the organization and
# the ledger in one transaction; the APIs manage many item types): whole-table writes, on purpose.
WHOLE_TABLE_WRITERS = {"CallsApiFunction", "ScheduledCallFunction", "CampaignDialerFunction", "CampaignsApiFunction",
                       "SchedulesApiFunction", "WebhookEndpointsFunction", "ProviderCallbacksFunction",
                       "ReserveSweeperFunction", "ProviderReconcileFunction",
                       "BurkiApiFunction",  # Burki's facade: calls (as initiate), campaigns, integer aliases
                       "CampaignDispatcherFunction"}  # the heartbeat settles a call of unknown outcome (UpdateItem)


def test_no_other_function_writes_to_the_whole_table():
    for function in TEMPLATE.functions():
        for statement in statements(function):
            writes = DYNAMODB_WRITES & set(actions(statement))
            if writes and statement["Resource"] == TABLE and leading_keys(statement) is None:
                assert function in WHOLE_TABLE_WRITERS, (
                    f"{function} writes {sorted(writes)} anywhere in the table: limit it with dynamodb:LeadingKeys "
                    f"to the key prefixes it writes, or say here why it cannot be")


def test_no_permission_the_code_never_uses():
    text = TEMPLATE_PATH.read_text()
    assert "scheduler:GetSchedule" not in text  # the Schedules API reads its schedules from the table
    for function in TEMPLATE.functions():
        for statement in statements(function):
            assert statement["Resource"] != "*" and not any(a.endswith(":*") for a in actions(statement)), function


def test_queue_policies_for_aws_services_name_the_resources_they_act_for():
    policies = {name: r for name, r in R.items() if r["Type"] == "AWS::SQS::QueuePolicy"}
    assert {"ScheduledCallsDeadLetterQueuePolicy", "CampaignImportsQueuePolicy"} <= set(policies)
    for name, policy in policies.items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "Service" not in statement.get("Principal", {}):
                continue
            condition = statement["Condition"]
            assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}, name
            assert condition.get("ArnEquals", {}).get("aws:SourceArn"), f"{name}: no aws:SourceArn"
    rules = policies["ScheduledCallsDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert rules["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        {"Fn::GetAtt": ["ScheduledCallFunctionCallRequested", "Arn"]}, {"Fn::GetAtt": ["ExampleRecurringCallRule", "Arn"]}]
    # Every rule that dead-letters to that queue is one of the two it names.
    dlq = {"Fn::GetAtt": ["ScheduledCallsDeadLetterQueue", "Arn"]}
    senders = {"ExampleRecurringCallRule"} if any(t.get("DeadLetterConfig", {}).get("Arn") == dlq for t in
                                                  R["ExampleRecurringCallRule"]["Properties"]["Targets"]) else set()
    for function in TEMPLATE.functions():
        for event_name, event in R[function]["Properties"].get("Events", {}).items():
            if event["Type"] == "EventBridgeRule" and event["Properties"].get("DeadLetterConfig", {}).get("Arn") == dlq:
                senders.add(function + event_name)
    assert senders == {"ExampleRecurringCallRule", "ScheduledCallFunctionCallRequested"}
    # S3 may send only for the imports bucket, whose name the policy can know before it exists.
    s3 = policies["CampaignImportsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    bucket_name = R["CampaignImportsBucket"]["Properties"]["BucketName"]["Fn::Sub"]
    source = s3["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"]
    assert source[0] == "arn:${AWS::Partition}:s3:::" + bucket_name[0] and source[1] == bucket_name[1]


def test_the_scheduler_role_invokes_the_function_itself_not_its_versions():
    for role in ("SchedulerRole", "CampaignSchedulerRole"):
        document = json.dumps(R[role]["Properties"]["Policies"])
        assert ':*"' not in document and '"*"' not in document, role
    [invoke] = [s for p in R["SchedulerRole"]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
                if "lambda:InvokeFunction" in actions(s)]
    assert invoke["Resource"] == {"Fn::GetAtt": ["ScheduledCallFunction", "Arn"]}
