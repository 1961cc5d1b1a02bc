"""template.yaml's operations promises: every alarm notifies the SNS topic, every dead-letter
queue has an alarm, the alarms and the dashboard use the metric names the code writes, and the
new ledger writes are scoped to ledger items."""
import json
import re

from outbound import metrics
from outbound_local.template import TEMPLATE_PATH, Template

TEMPLATE = Template(TEMPLATE_PATH)
R = TEMPLATE.resources
TOPIC = {"Ref": "AlarmTopic"}


def walk(node):
    """Every (key, value) pair in a template fragment, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def alarms():
    return {name: r["Properties"] for name, r in R.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_every_alarm_notifies_the_topic_and_an_email_can_subscribe():
    assert alarms(), "no alarms"
    for name, alarm in alarms().items():
        assert TOPIC in alarm.get("AlarmActions", []), name
        assert TOPIC in alarm.get("OKActions", []), name
    subscription = R["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {"TopicArn": TOPIC, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    assert TEMPLATE.parameter_default("AlarmEmail") == ""
    statement, = R["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and statement["Action"] == "sns:Publish"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "AlarmTopicArn" in TEMPLATE.doc["Outputs"]


def dead_letter_queues() -> set[str]:
    """Queues the template sends failures to: redrive targets, DeadLetterConfig, OnFailure."""
    found = set()
    for key, value in walk(R):
        if key == "deadLetterTargetArn":
            target = value
        elif key == "DeadLetterConfig" and isinstance(value, dict):
            target = value.get("Arn")
        elif key == "OnFailure" and isinstance(value, dict):
            target = value.get("Destination")
        else:
            continue
        if isinstance(target, dict) and "Fn::GetAtt" in target:
            found.add(target["Fn::GetAtt"][0])
    return {name for name in found if R[name]["Type"] == "AWS::SQS::Queue"}


def test_every_dead_letter_queue_has_an_alarm_on_its_depth():
    """A new dead-letter queue fails this test until it gets an alarm like ScheduledCallsDeadLetterAlarm."""
    queues = dead_letter_queues()
    assert "ScheduledCallsDeadLetterQueue" in queues
    for queue in queues:
        watching = [name for name, alarm in alarms().items()
                    if {"Fn::GetAtt": [queue, "QueueName"]} in [v for _, v in walk(alarm)]
                    and "ApproximateNumberOfMessagesVisible" in json.dumps(alarm)]
        assert watching, f"no alarm on the depth of {queue}"


def test_alarms_cover_api_5xx_provider_failures_and_dynamodb_throttling():
    text = {name: json.dumps(alarm) for name, alarm in alarms().items()}
    assert '"5XXError"' in text["Api5xxRateAlarm"] and '"AWS/ApiGateway"' in text["Api5xxRateAlarm"]
    assert R["Api"]["Properties"]["Name"] == {"Ref": "AWS::StackName"}  # the alarm's ApiName dimension
    provider = text["ProviderFailureRateAlarm"]
    for name in (metrics.CALLS_PLACED, metrics.CALLS_REFUSED, metrics.CALLS_TIMED_OUT):
        assert f'"{name}"' in provider
    assert '"ReadThrottleEvents"' in text["DynamoDbThrottlingAlarm"]
    indexes = {i["IndexName"] for i in R["CallsTable"]["Properties"]["GlobalSecondaryIndexes"]}
    assert {v for k, v in walk(alarms()["DynamoDbThrottlingAlarm"]) if k == "Value" and isinstance(v, str)} >= indexes


def test_custom_metrics_in_alarms_and_dashboard_are_the_ones_the_code_writes():
    namespace = TEMPLATE.doc["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    assert namespace == {"Fn::Sub": "OutboundCalls/${AWS::StackName}"}
    written = {value for name, value in vars(metrics).items() if name.isupper() and name != "SERVICE"}
    used = set()
    for alarm in alarms().values():
        ours = [v for k, v in walk(alarm) if k == "Metric" and v.get("Namespace") == namespace]
        used |= {metric["MetricName"] for metric in ours}
        assert all(m["Dimensions"] == [{"Name": "service", "Value": metrics.SERVICE}] for m in ours)  # the totals
    body = R["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    used |= set(re.findall(r'MetricName=\\"(\w+)\\"', body))
    used |= set(re.findall(r'"OutboundCalls/\$\{AWS::StackName\}", "(\w+)"', body))
    assert used and used <= written, used - written
    assert written <= used, f"metrics the dashboard does not show: {written - used}"


def test_dashboard_body_is_json_and_refers_to_this_stack():
    body = R["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for name in re.findall(r"\$\{([^}]+)\}", body):
        base = name.split(".")[0]
        assert base in R or base in TEMPLATE.parameters or base.startswith("AWS::"), name
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    alarm_widget = next(w for w in widgets if w["type"] == "alarm")
    assert len(alarm_widget["properties"]["alarms"]) == len(alarms())


def test_ledger_writes_of_the_webhook_and_sweeper_functions_are_scoped_to_ledger_items():
    for function in ("ProviderCallbacksFunction", "ReserveSweeperFunction"):
        puts = [s for policy in R[function]["Properties"]["Policies"] for s in policy["Statement"]
                if "dynamodb:PutItem" in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
        assert len(puts) == 1, function
        assert puts[0]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LEDGER#*"]}}
