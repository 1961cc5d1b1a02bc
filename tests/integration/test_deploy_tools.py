"""`outbound env-vars` and `outbound teardown` against a local server of this module's own (teardown
deletes its secrets, so no other module may share it).

env-vars: the file is tried the way `sam local invoke -n FILE` would use it: each handler runs in a
fresh process whose environment is only that function's variables from the file (SAM sets only the
variables a template declares) plus what SAM adds (region, credentials), with the layer and the
function's folder as its code. No AWS_ENDPOINT_URL: the service-specific variables alone must bring
DynamoDB, Secrets Manager, Scheduler and SQS to the local server.
teardown: the imports bucket is emptied and the stack's provider and webhook secrets deleted, only
after a confirmation; the `sam delete` step is shown, not run (a local server has no stack)."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import boto3
import pytest

from outbound_local.template import load
from tests.conftest import EVENTS, OUTBOUND, ROOT, TEST_SERVER_ENV, start_server, wait_for

pytestmark = pytest.mark.integration

RUN_HANDLER = r"""
import json, sys, uuid

class Context:  # what the Lambda runtime passes (the attributes handlers and Powertools read)
    function_name = sys.argv[1]; memory_limit_in_mb = 1024; aws_request_id = str(uuid.uuid4())
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + sys.argv[1]
    log_group_name = "/aws/lambda/x"; log_stream_name = "x"; function_version = "$LATEST"
    def get_remaining_time_in_millis(self): return 20000

import app
print("RESULT " + json.dumps(app.lambda_handler(json.loads(sys.stdin.read()), Context())))
"""


@pytest.fixture(scope="module")
def server():
    srv = start_server(env=TEST_SERVER_ENV)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def env_file(server, tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("sam") / "env.json"
    done = server.outbound("env-vars", "--local-server", server.url, "--output", str(path))
    assert f"-n {path}" in done.stderr and "--docker-network host" in done.stderr
    return json.loads(path.read_text())


def sam_local_invoke(env_file: dict, function: str, event: dict) -> dict:
    """One invocation as `sam local invoke FUNCTION -e EVENT -n FILE --region us-east-1` runs it."""
    declared = load().functions()[function]
    environment = {name: value for name, value in env_file[function].items() if name in declared.environment}
    environment.update({"AWS_SAM_LOCAL": "true", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_ACCESS_KEY_ID": "defaultkey", "AWS_SECRET_ACCESS_KEY": "defaultsecret",
                        "AWS_LAMBDA_FUNCTION_NAME": function, "PATH": os.environ["PATH"],
                        # the layer (/opt/python in Lambda) and the function's folder (/var/task)
                        "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(declared.code_uri)])})
    done = subprocess.run([sys.executable, "-c", RUN_HANDLER, function], input=json.dumps(event), env=environment,
                          capture_output=True, text=True, timeout=60, cwd=declared.code_uri)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.split("RESULT ", 1)[1])


def api_event(method: str, path: str, resource: str, body=None, path_parameters=None) -> dict:
    event = copy.deepcopy(json.loads((EVENTS / "schedule-call-one-time.json").read_text()))
    event.update(httpMethod=method, path=path, resource=resource, pathParameters=path_parameters,
                 body=None if body is None else json.dumps(body))
    event["requestContext"].update(httpMethod=method, resourcePath=resource, path="/v1" + path)
    return event


def test_every_declared_variable_of_every_function_is_in_the_file(env_file):
    for name, function in load().functions().items():
        assert set(function.environment) <= set(env_file[name]), name
        for variable in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SQS",
                         "AWS_ENDPOINT_URL_SCHEDULER"):
            assert env_file[name][variable].startswith("http://127.0.0.1:"), (name, variable)


def test_a_handler_with_only_the_files_variables_schedules_a_call_on_the_local_server(server, env_file):
    """DynamoDB (the checks, the schedule), Secrets Manager (the credentials exist) and Scheduler."""
    event = json.loads((EVENTS / "schedule-call-one-time.json").read_text())
    result = sam_local_invoke(env_file, "SchedulesApiFunction", event)
    assert result["statusCode"] == 201, result
    schedule_id = json.loads(result["body"])["schedule_id"]
    assert server.request("GET", f"/calls/schedules/{schedule_id}").json()["status"] == "scheduled"
    schedules = boto3.client("scheduler", endpoint_url=server.aws()["endpoint_url"], region_name="us-east-1",
                             aws_access_key_id="local", aws_secret_access_key="local")
    assert schedules.get_schedule(Name=schedule_id, GroupName="ScheduledCallsGroup")["Name"] == schedule_id


def daytime_zone() -> str:
    offset = 12 - datetime.now(timezone.utc).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def test_a_campaign_started_from_such_a_process_is_dialed_by_the_local_server(server, env_file):
    """The start's tick goes through the local SQS (CAMPAIGN_TICKS_QUEUE_URL, AWS_ENDPOINT_URL_SQS):
    the server's dispatcher receives it and places the call."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    created = sam_local_invoke(env_file, "CampaignsApiFunction", api_event("POST", "/campaigns", "/campaigns", {
        "name": "sam local", "from_phone_number": "+15551234567", "timezone": daytime_zone(),
        "calling_window": {"days": days, "start": "08:00", "end": "21:00"}}))
    assert created["statusCode"] == 201, created
    campaign_id = json.loads(created["body"])["campaign_id"]
    path = {"campaign_id": campaign_id}
    added = sam_local_invoke(env_file, "CampaignsApiFunction", api_event(
        "POST", f"/campaigns/{campaign_id}/contacts", "/campaigns/{campaign_id}/contacts",
        {"contacts": [{"phone_number": "+12125580001", "timezone": daytime_zone()}]}, path))
    assert added["statusCode"] == 200 and json.loads(added["body"])["added"] == 1, added
    started = sam_local_invoke(env_file, "CampaignsApiFunction", api_event(
        "POST", f"/campaigns/{campaign_id}/start", "/campaigns/{campaign_id}/start", None, path))
    assert started["statusCode"] == 200, started
    # Dialed: in flight, or already ended (``attempts`` counts the attempts whose call has ended).
    progress = wait_for(lambda: (p := server.request("GET", f"/campaigns/{campaign_id}").json()["progress"])["in_flight"]
                        + p["attempts"] and p, timeout=30, what="the local dispatcher to dial the campaign's contact")
    assert progress["in_flight"] + progress["attempts"] == 1


def test_teardown_asks_before_deleting(server):
    done = subprocess.run([*OUTBOUND, "teardown", "--local-server", server.url], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "nothing deleted: confirm with --yes" in done.stderr, done.stderr
    assert "outbound/local/org_acme/twilio" in done.stdout  # the plan was shown


def test_teardown_empties_the_bucket_deletes_the_stacks_secrets_and_shows_sam_delete(server):
    info = server.aws()
    options = dict(endpoint_url=info["endpoint_url"], region_name=info["region"], aws_access_key_id="local",
                   aws_secret_access_key="local")
    s3, secrets = boto3.client("s3", **options), boto3.client("secretsmanager", **options)
    bucket = info["environment"]["CAMPAIGN_IMPORTS_BUCKET"]
    endpoint = server.request("POST", "/webhook-endpoints", {"url": server.url + "/_local/webhook-receiver/teardown",
                                                            "events": ["call.completed"]})
    assert endpoint.status_code == 201, endpoint.text
    s3.put_object(Bucket=bucket, Key="imports/cmp_x/imp_x.csv", Body=b"phone_number\n+12125580002\n")
    secrets.create_secret(Name="outbound-other-stack/keep-me", SecretString="{}")  # not this stack's
    names = lambda: sorted(s["Name"] for p in secrets.get_paginator("list_secrets").paginate() for s in p["SecretList"])
    before = names()
    assert f"outbound-webhooks/local/{endpoint.json()['id']}" in before and "outbound/local/org_acme/twilio" in before

    done = subprocess.run([*OUTBOUND, "teardown", "--local-server", server.url, "--yes"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Emptied {bucket} (1 objects)." in done.stdout
    assert f"Deleted {len(before) - 2} secrets." in done.stdout
    assert "Not run (a local server has no CloudFormation stack): sam delete --stack-name local --region us-east-1 " \
           "--no-prompts" in done.stdout
    assert "Left on purpose: the table" in done.stdout
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    kept = {"outbound-other-stack/keep-me", info["environment"]["EVIDENCE_KEY_SECRET"].split(":secret:")[-1]}
    assert {name for name in before if name not in kept} and set(names()) == kept  # the evidence key: retained


# --- a deployed stack (moto's CloudFormation, Lambda, S3 and Secrets Manager over HTTP) ----------
STACK_TEMPLATE = {
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}}},
        "CallsApiFunction": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "app.lambda_handler", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"ZipFile": "def lambda_handler(event, context): return None"},
            "Environment": {"Variables": {"TABLE_NAME": "demo-CallsTable-1A2B", "CREDENTIALS_SECRET_PREFIX": "outbound/demo/"}}}},
        "CampaignImportsBucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {"CampaignImportsBucketName": {"Value": {"Ref": "CampaignImportsBucket"}},
                "CredentialsSecretPrefix": {"Value": "outbound/demo/"}}}


@pytest.fixture(scope="module")
def deployed():
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "eu-west-1"}
    clients = {name: boto3.client(name, endpoint_url=env["AWS_ENDPOINT_URL"], region_name="eu-west-1",
                                  aws_access_key_id="x", aws_secret_access_key="x")
               for name in ("cloudformation", "s3", "secretsmanager")}
    clients["cloudformation"].create_stack(StackName="demo", TemplateBody=json.dumps(STACK_TEMPLATE))
    yield env, clients
    moto.stop()


def test_env_vars_of_a_deployed_stack_are_each_functions_own(deployed, tmp_path):
    env, _ = deployed
    done = subprocess.run([*OUTBOUND, "env-vars", "--stack", "demo", "--output", str(tmp_path / "env.json")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "env.json").read_text()) == {
        "CallsApiFunction": {"TABLE_NAME": "demo-CallsTable-1A2B", "CREDENTIALS_SECRET_PREFIX": "outbound/demo/"}}


def test_teardown_of_a_deployed_stack_reads_its_outputs(deployed):
    env, clients = deployed
    bucket = next(o["OutputValue"] for o in clients["cloudformation"].describe_stacks(StackName="demo")["Stacks"][0]["Outputs"]
                  if o["OutputKey"] == "CampaignImportsBucketName")
    clients["s3"].put_object(Bucket=bucket, Key="imports/a.csv", Body=b"phone_number\n")
    for name in ("outbound/demo/org_a/twilio", "outbound-webhooks/demo/we_1", "outbound/demo-two/org_a/twilio"):
        clients["secretsmanager"].create_secret(Name=name, SecretString="{}")
    done = subprocess.run([*OUTBOUND, "teardown", "--stack", "demo", "--yes", "--skip-sam-delete"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Emptied {bucket} (1 objects)." in done.stdout and "Deleted 2 secrets." in done.stdout
    assert "Not run (--skip-sam-delete): sam delete --stack-name demo --region eu-west-1 --no-prompts" in done.stdout
    assert [s["Name"] for s in clients["secretsmanager"].list_secrets()["SecretList"]] == ["outbound/demo-two/org_a/twilio"]
    assert clients["s3"].list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
