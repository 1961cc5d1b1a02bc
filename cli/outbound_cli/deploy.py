"""Commands around a deployment: ``outbound env-vars`` (a `sam local invoke -n` file) and
``outbound teardown`` (everything the stack made, in one command).

  outbound env-vars (--local-server URL | --stack NAME [--region R]) [--output FILE] [--docker-host HOST]
  outbound teardown (--stack NAME [--region R] | --local-server URL) [--yes] [--sam PATH] [--skip-sam-delete]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

from .common import CliError, local_server_info

# botocore's service-specific endpoint variables, for every AWS service the functions call.
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SQS",
                      "AWS_ENDPOINT_URL_SCHEDULER", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_EVENTBRIDGE")
LOCAL_REGION = "us-east-1"


# --- env-vars -----------------------------------------------------------------------------------
def local_env_vars(server_url: str, docker_host: str | None = None) -> dict[str, dict[str, str]]:
    """Each function's variables (those template.yaml declares: the only ones `sam local` sets),
    valued as the running local server gives them to its own functions, with every AWS endpoint
    variable pointing at its local AWS."""
    from outbound_local.template import load

    info = local_server_info(server_url)
    environment = {**info["environment"], **{name: info["endpoint_url"] for name in ENDPOINT_VARIABLES}}
    result: dict[str, dict[str, str]] = {}
    for logical_id, function in load().functions().items():
        values = {}
        for name, declared in function.environment.items():
            value = environment.get(name, declared if isinstance(declared, str) else None)
            if name == "POWERTOOLS_SERVICE_NAME" and isinstance(declared, str):
                value = declared  # one per function (the local server hosts them all in one process)
            if value is not None:
                values[name] = _docker_reachable(str(value), docker_host)
        result[logical_id] = values
    return result


def _docker_reachable(value: str, docker_host: str | None) -> str:
    """A loopback URL as a container reaches the host (with --docker-host), else unchanged."""
    if not docker_host or not value.startswith("http"):
        return value
    parts = urlsplit(value)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        return value
    netloc = docker_host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def stack_env_vars(stack: str, region: str | None) -> dict[str, dict[str, str]]:
    """Each function's variables exactly as the deployed stack runs it (Lambda's own configuration)."""
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region)
    lambda_ = boto3.client("lambda", region_name=region)
    result = {}
    for resource in _stack_resources(cloudformation, stack):
        if resource["ResourceType"] == "AWS::Lambda::Function":
            config = lambda_.get_function_configuration(FunctionName=resource["PhysicalResourceId"])
            result[resource["LogicalResourceId"]] = dict((config.get("Environment") or {}).get("Variables") or {})
    if not result:
        raise CliError(f"stack {stack} has no Lambda functions")
    return result


def _stack_resources(cloudformation: Any, stack: str) -> list[dict[str, Any]]:
    from botocore.exceptions import ClientError

    try:
        return [r for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
                for r in page["StackResourceSummaries"]]
    except ClientError as exc:
        raise CliError(f"cannot read stack {stack}: {exc.response['Error'].get('Message', exc)}") from None


def cmd_env_vars(args: argparse.Namespace) -> int:
    values = (local_env_vars(args.local_server, args.docker_host) if args.local_server
              else stack_env_vars(args.stack, args.region))
    text = json.dumps(values, indent=2, sort_keys=True) + "\n"
    if not args.output:
        sys.stdout.write(text)
        return 0
    with open(args.output, "w") as file:
        file.write(text)
    network = "--docker-network host " if args.local_server and not args.docker_host else ""
    region = f"--region {LOCAL_REGION} " if args.local_server else (f"--region {args.region} " if args.region else "")
    print(f"Wrote {args.output}: {len(values)} functions. Then, with Docker:\n"
          f"  sam local invoke CallsApiFunction -e events/get-call-unknown.json -n {args.output} {region}{network}".rstrip(),
          file=sys.stderr)
    return 0


# --- teardown -----------------------------------------------------------------------------------
def _teardown_target(args: argparse.Namespace) -> dict[str, Any]:
    """What the stack made outside CloudFormation's reach: its bucket's objects and its secrets."""
    import boto3

    if args.local_server:
        info = local_server_info(args.local_server)
        env = info["environment"]
        options = dict(endpoint_url=info["endpoint_url"], region_name=info["region"],
                       aws_access_key_id="local", aws_secret_access_key="local")
        return {"stack": "local", "region": info["region"], "bucket": env["CAMPAIGN_IMPORTS_BUCKET"],
                "prefixes": [env["CREDENTIALS_SECRET_PREFIX"], env["WEBHOOK_SECRET_PREFIX"]],
                "s3": boto3.client("s3", **options), "secrets": boto3.client("secretsmanager", **options),
                "local": True}
    cloudformation = boto3.client("cloudformation", region_name=args.region)
    try:
        [stack] = cloudformation.describe_stacks(StackName=args.stack)["Stacks"]
    except Exception as exc:  # botocore's ClientError: no such stack, no credentials...
        raise CliError(f"cannot read stack {args.stack}: {exc}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    region = cloudformation.meta.region_name
    return {"stack": args.stack, "region": region, "bucket": outputs.get("CampaignImportsBucketName"),
            "prefixes": [outputs.get("CredentialsSecretPrefix") or f"outbound/{args.stack}/",
                         f"outbound-webhooks/{args.stack}/"],
            "s3": boto3.client("s3", region_name=region), "secrets": boto3.client("secretsmanager", region_name=region),
            "local": False}


def _secrets_under(client: Any, prefixes: list[str]) -> list[str]:
    names = []
    for page in client.get_paginator("list_secrets").paginate():
        names += [s["Name"] for s in page["SecretList"] if any(s["Name"].startswith(p) for p in prefixes)]
    return sorted(names)


def _objects_in(client: Any, bucket: str | None) -> list[str]:
    if not bucket:
        return []
    return [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]


def cmd_teardown(args: argparse.Namespace) -> int:
    target = _teardown_target(args)
    objects = _objects_in(target["s3"], target["bucket"])
    secrets = _secrets_under(target["secrets"], target["prefixes"])
    sam_delete = [args.sam, "delete", "--stack-name", target["stack"], "--region", target["region"], "--no-prompts"]
    print(f"Tearing down stack {target['stack']} ({target['region']}):")
    print(f"  1. empty the imports bucket {target['bucket']}: {len(objects)} objects")
    print(f"  2. delete {len(secrets)} secrets under {' and '.join(target['prefixes'])} (at once, no recovery window):")
    for name in secrets:
        print(f"       {name}")
    print(f"  3. {' '.join(sam_delete)}: the functions, API, queues, buckets, bus, schedule groups (with their "
          "schedules), alarms, topic and dashboard")
    print("Left on purpose: the table (DeletionPolicy Retain: balances and ledger; `aws dynamodb delete-table "
          "--table-name <CallsTableName>` once you no longer need them) and the evidence key (its secret, "
          "EvidenceKeySecretArn: the table's evidence records stay verifiable), the functions' log groups "
          f"(/aws/lambda/{target['stack']}-*), and SAM's artifacts bucket (stack aws-sam-cli-managed-default, "
          "shared by every SAM application of the region).")
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("nothing deleted: confirm with --yes (no terminal to ask on)")
        if input("Proceed? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return 1
    for start in range(0, len(objects), 1000):
        target["s3"].delete_objects(Bucket=target["bucket"], Delete={
            "Objects": [{"Key": key} for key in objects[start:start + 1000]], "Quiet": True})
    print(f"Emptied {target['bucket']} ({len(objects)} objects).")
    for name in secrets:
        target["secrets"].delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    print(f"Deleted {len(secrets)} secrets.")
    if target["local"] or args.skip_sam_delete:
        why = "a local server has no CloudFormation stack" if target["local"] else "--skip-sam-delete"
        print(f"Not run ({why}): {' '.join(sam_delete)}")
        return 0
    print(f"Running: {' '.join(sam_delete)}", flush=True)
    try:
        return subprocess.call(sam_delete)
    except OSError as exc:
        raise CliError(f"cannot run {args.sam} ({exc}): `make teardown` installs the SAM CLI, or give --sam PATH") from None


def register(commands: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    env_vars = commands.add_parser("env-vars", help="write a `sam local invoke -n` file pointing every function at a "
                                                    "local server's AWS or at a deployed stack's resources")
    target = env_vars.add_mutually_exclusive_group(required=True)
    target.add_argument("--local-server", metavar="URL", help="a running `outbound serve`")
    target.add_argument("--stack", metavar="NAME", help="a deployed stack: each function's variables as deployed")
    env_vars.add_argument("--region", help="the stack's region (default: your AWS configuration's)")
    env_vars.add_argument("--output", "-o", metavar="FILE", help="write here (default: stdout)")
    env_vars.add_argument("--docker-host", metavar="HOST",
                          help="how a container reaches this machine (e.g. host.docker.internal): loopback URLs are "
                               "rewritten to it; without it, run sam local with --docker-network host")

    teardown = commands.add_parser("teardown", help="delete a stack and what it leaves behind: empties the imports "
                                                    "bucket, deletes its secrets, then `sam delete` (asks first)")
    target = teardown.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", metavar="NAME", help="the deployed stack's name")
    target.add_argument("--local-server", metavar="URL", help="a running `outbound serve` (the sam delete step is shown, "
                                                               "not run)")
    teardown.add_argument("--region", help="the stack's region (default: your AWS configuration's)")
    teardown.add_argument("--yes", action="store_true", help="do not ask before deleting")
    teardown.add_argument("--sam", default=os.environ.get("SAM_CLI", "sam"), help="the SAM CLI to run (default: sam)")
    teardown.add_argument("--skip-sam-delete", action="store_true", help="do everything but `sam delete` (printed)")
    return {"env-vars": cmd_env_vars, "teardown": cmd_teardown}
