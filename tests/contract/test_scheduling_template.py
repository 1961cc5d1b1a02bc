"""template.yaml's scheduled-call resources: the promises operators rely on (least privilege,
dead-letter queue and its alarm, the example rule disabled, the routes behind the authorizer)."""
from outbound_local.template import TEMPLATE_PATH, Template

TEMPLATE = Template(TEMPLATE_PATH)
R = TEMPLATE.resources


def actions(statement) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


def test_schedules_api_routes_are_a_function_of_their_own_behind_the_authorizer():
    routes = {(r.method, r.path): r for r in TEMPLATE.routes()}
    for key in [("POST", "/calls/schedule"), ("GET", "/calls/schedules"), ("GET", "/calls/schedules/{schedule_id}"),
                ("DELETE", "/calls/schedules/{schedule_id}")]:
        assert routes[key].function == "SchedulesApiFunction"
        assert routes[key].authorizer is not None  # the default API-key authorizer
    assert R["SchedulesApiFunction"]["Properties"]["CodeUri"] == "functions/schedules_api/"
    assert R["ScheduledCallFunction"]["Properties"]["CodeUri"] == "functions/scheduled_call/"


def test_the_scheduler_role_can_only_invoke_the_scheduled_call_function():
    role = R["SchedulerRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    invoke = [s for s in statements if "lambda:InvokeFunction" in actions(s)]
    assert len(invoke) == 1 and actions(invoke[0]) == ["lambda:InvokeFunction"]
    assert invoke[0]["Resource"] == {"Fn::GetAtt": ["ScheduledCallFunction", "Arn"]}  # not its versions (":*")
    others = [a for s in statements for a in actions(s) if a != "lambda:InvokeFunction"]
    assert others == ["sqs:SendMessage"]  # its dead letters, nothing else


def test_the_schedules_api_may_touch_only_its_group_and_pass_only_that_role():
    statements = [s for p in R["SchedulesApiFunction"]["Properties"]["Policies"] for s in p["Statement"]]
    scheduler = [s for s in statements if any(a.startswith("scheduler:") for a in actions(s))]
    assert sorted(actions(scheduler[0])) == ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"]
    assert "schedule/${ScheduledCallsGroup}/*" in scheduler[0]["Resource"]["Fn::Sub"]
    [pass_role] = [s for s in statements if "iam:PassRole" in actions(s)]
    assert pass_role["Resource"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    for function in ("SchedulesApiFunction", "ScheduledCallFunction"):
        for policy in R[function]["Properties"]["Policies"]:
            for statement in policy["Statement"]:
                assert statement["Resource"] != "*" and not any(a.endswith(":*") for a in actions(statement))
    env = R["SchedulesApiFunction"]["Properties"]["Environment"]["Variables"]
    assert {"SCHEDULE_GROUP_NAME", "SCHEDULED_CALL_FUNCTION_ARN", "SCHEDULER_ROLE_ARN", "SCHEDULE_DLQ_ARN"} <= set(env)


def test_failed_fires_end_in_an_alarmed_dead_letter_queue():
    function = R["ScheduledCallFunction"]["Properties"]
    assert function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"] == \
        {"Fn::GetAtt": ["ScheduledCallsDeadLetterQueue", "Arn"]}
    alarm = R["ScheduledCallsDeadLetterAlarm"]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible" and alarm["Namespace"] == "AWS/SQS"
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["ScheduledCallsDeadLetterQueue", "QueueName"]}
    assert R["ScheduledCallsGroup"]["Type"] == "AWS::Scheduler::ScheduleGroup"
    rule = function["Events"]["CallRequested"]["Properties"]
    assert rule["Pattern"] == {"detail-type": ["Outbound Call Requested"]}
    assert rule["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ScheduledCallsDeadLetterQueue", "Arn"]}


def test_the_example_recurring_rule_is_disabled_parameterized_and_keyed_per_fire():
    rule = R["ExampleRecurringCallRule"]["Properties"]
    assert rule["State"] == "DISABLED"
    assert rule["ScheduleExpression"] == {"Ref": "ExampleRuleScheduleExpression"}
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ScheduledCallFunction", "Arn"]}
    template = target["InputTransformer"]["InputTemplate"]["Fn::Sub"]
    assert '"scheduled_time": <time>' in template and '"schedule_id": <rule>' in template
    assert "${ExampleRuleCallBody}" in template and "${ExampleRuleOrganizationId}" in template
    assert R["ExampleRecurringCallRulePermission"]["Properties"]["SourceArn"] == \
        {"Fn::GetAtt": ["ExampleRecurringCallRule", "Arn"]}
