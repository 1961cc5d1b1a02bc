"""template.yaml's promises for outcome events: fan-out from the table's stream (call records only,
partial failures, bisecting), a delivery queue with a dead-letter queue and an alarm, the bus,
no loopback allowance, and least-privilege policies (each function's secrets prefix, no Scan)."""
import json

from outbound_local.template import TEMPLATE_PATH, Template

TEMPLATE = Template(TEMPLATE_PATH)
RESOURCES = TEMPLATE.resources


def statements(function):
    for policy in RESOURCES[function]["Properties"]["Policies"]:
        yield from policy["Statement"]


def granted(function):
    found = {}
    for statement in statements(function):
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        for action in actions:
            found.setdefault(action, []).append(statement["Resource"])
    return found


def test_call_events_read_the_stream_of_call_records_with_partial_failures():
    [source] = [s for s in TEMPLATE.event_sources() if s.function == "CallEventsFunction"]
    assert (source.kind, source.source, source.report_failures) == ("DynamoDB", "CallsTable", True)
    assert source.filters[0] == {"eventName": ["MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["CALL"]}}}}
    # and the campaign.* events: a campaign's status moves, a contact reaching a final status
    assert source.filters[1] == {"eventName": ["MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["A#CAMPAIGN"]}}}}
    assert source.filters[2]["dynamodb"]["Keys"] == {"sk": {"S": [{"prefix": "K#"}]}}
    props = RESOURCES["CallEventsFunction"]["Properties"]["Events"]["CallChanges"]["Properties"]
    assert props["BisectBatchOnFunctionError"] is True
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["CallEventsDeadLetterQueue", "Arn"]}


def test_deliveries_go_through_a_queue_with_a_dead_letter_queue_and_alarms():
    [source] = [s for s in TEMPLATE.event_sources() if s.function == "WebhookDeliveryFunction"]
    assert (source.kind, source.source, source.report_failures) == ("SQS", "WebhookDeliveryQueue", True)
    queue = RESOURCES["WebhookDeliveryQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["WebhookDeliveryDeadLetterQueue", "Arn"]}
    timeout = RESOURCES["WebhookDeliveryFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout
    for alarm, queue_name in (("WebhookDeliveryDeadLetterAlarm", "WebhookDeliveryDeadLetterQueue"),
                              ("CallEventsDeadLetterAlarm", "CallEventsDeadLetterQueue")):
        dimension = RESOURCES[alarm]["Properties"]["Dimensions"][0]["Value"]
        assert dimension == {"Fn::GetAtt": [queue_name, "QueueName"]}
    assert TEMPLATE.parameter_default("WebhookRetryWindowSeconds") >= 86400
    assert TEMPLATE.parameters["WebhookRetryWindowSeconds"]["MinValue"] >= 86400


def test_the_bus_is_the_stacks_and_loopback_is_never_allowed_in_a_deployment():
    assert RESOURCES["CallEventsBus"]["Type"] == "AWS::Events::EventBus"
    assert granted("CallEventsFunction")["events:PutEvents"] == [{"Fn::GetAtt": ["CallEventsBus", "Arn"]}]
    assert "OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK" not in json.dumps(TEMPLATE.doc)


def test_webhook_secrets_have_a_prefix_of_their_own():
    for function in ("WebhookDeliveryFunction", "WebhookEndpointsFunction"):
        for action, resources in granted(function).items():
            if action.startswith("secretsmanager:"):
                assert all("secret:outbound-webhooks/${AWS::StackName}/*" in r["Fn::Sub"] for r in resources)
    assert set(granted("WebhookDeliveryFunction")) == {"dynamodb:BatchGetItem", "dynamodb:UpdateItem",
                                                     "secretsmanager:GetSecretValue", "sqs:SendMessage"}
    # The functions holding provider credentials cannot read webhook secrets, and vice versa.
    for function in ("CallsApiFunction", "ProviderCallbacksFunction"):
        for resource in granted(function)["secretsmanager:GetSecretValue"]:  # a prefix, or the evidence key
            assert "outbound-webhooks/" not in json.dumps(resource)


def test_no_outcome_function_scans_or_uses_wildcards():
    for function in ("CallEventsFunction", "WebhookDeliveryFunction", "WebhookEndpointsFunction"):
        for action, resources in granted(function).items():
            assert action != "dynamodb:Scan" and not action.endswith(":*")
            assert "*" not in resources, (function, action)
