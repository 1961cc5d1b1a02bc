"""The local stack: moto (DynamoDB, Secrets Manager), the provider emulators, the function
environment from template.yaml, and the fixture loaded. Used by serve, invoke and the tests."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from . import fixture as fixtures
from .aws import LocalAws
from .emulators.base import HttpEmulatorHost, RequestLog
from .template import PROJECT_ROOT, Template, load

DEMO_FIXTURE = PROJECT_ROOT / "events" / "fixture.json"
STACK_NAME = "local"
TABLE_NAME = "outbound-local"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# Local values of template parameters that have no default (or whose default is too slow to try
# by hand: a failed webhook delivery is retried after 1 s, 2 s, 4 s... instead of 10 s, 20 s...).
LOCAL_PARAMETERS = {"VoiceStreamUrl": "wss://voice-runtime.localhost/stream", "WebhookRetryBaseSeconds": "1"}
# How long adapters wait for a provider locally (the silent emulator number answers after
# 30 s). $OUTBOUND_LOCAL_PROVIDER_TIMEOUT_S overrides it: the tests use 1 s to stay fast.
LOCAL_PROVIDER_TIMEOUT_S = "3"
PROVIDER_TIMEOUT_ENV = "OUTBOUND_LOCAL_PROVIDER_TIMEOUT_S"


def local_provider_timeout() -> str:
    value = os.environ.get(PROVIDER_TIMEOUT_ENV) or LOCAL_PROVIDER_TIMEOUT_S
    try:
        if not 0 < float(value) < float("inf"):  # nan and inf fail too
            raise ValueError
    except ValueError:
        raise ValueError(f"{PROVIDER_TIMEOUT_ENV} must be a positive number of seconds, not {value!r}") from None
    return value


def _emulator_modules() -> dict[str, Any]:
    from .emulators import freeswitch, telnyx, twilio, vonage

    return {"twilio": twilio, "telnyx": telnyx, "vonage": vonage, "sip": freeswitch}


def reset_cached_clients() -> None:
    """Warm-Lambda caches hold endpoints and settings: a new local stack starts them afresh."""
    from outbound import aws, credentials
    from outbound.compliance import evidence
    from outbound.config import scheduler_settings, settings
    from outbound.outcome_events import secrets as webhook_secrets

    from .functions import tag_requests_with_function

    settings.cache_clear()
    scheduler_settings.cache_clear()
    aws.reset()
    credentials.clear_cache()
    evidence.clear_cache()
    webhook_secrets.clear_cache()
    tag_requests_with_function(aws.session())


class ProviderAccounts:
    """The accounts the emulated providers know, as a provider's own registry would: a snapshot
    taken when a fixture is seeded, not a live view of Secrets Manager. Rewriting an
    organization's secret afterwards (a rotated or mistyped key) then gets that secret refused,
    as the real provider would refuse it, until the accounts are re-snapshotted (``reload``)."""

    def __init__(self) -> None:
        self._accounts: dict[str, list[dict]] = {}

    def replace(self, accounts: dict[str, list[dict]]) -> None:
        self._accounts = {provider: list(values) for provider, values in accounts.items()}  # one atomic swap

    def __call__(self, provider: str) -> list[dict]:
        """The emulators' ``Credentials`` callable: provider -> accepted credential dicts."""
        return list(self._accounts.get(provider, ()))

    def counts(self) -> dict[str, int]:
        return {provider: len(values) for provider, values in sorted(self._accounts.items())}


class LocalStack:
    def __init__(self, public_url: str = "", parameters: dict[str, str] | None = None):
        self.template: Template = load()
        self.parameters = {**LOCAL_PARAMETERS, **(parameters or {})}
        self.public_url = public_url
        self.requests = RequestLog()
        self.provider_accounts = ProviderAccounts()
        self.provider_timeout_s = local_provider_timeout()  # a bad override fails before anything starts
        self.aws: LocalAws | None = None
        self.http_emulators: HttpEmulatorHost | None = None
        self.esl_emulator = None
        self.scheduler = None  # the local EventBridge Scheduler (start_scheduler), serve only
        self.event_sources = None  # the local Lambda event source mappings (start_event_sources), serve only
        self.environment: dict[str, str] = {}  # what the functions run with (see _set_environment)
        from .webhook_receiver import LocalDns, WebhookReceivers

        self.webhook_receivers = WebhookReceivers()  # /_local/webhook-receiver/<name>
        self.dns = LocalDns()  # /_local/dns: names the webhook URL checks resolve

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "LocalStack":
        self.aws = LocalAws().start()
        self._configure_environment()
        self._create_tables()
        self._create_queues()
        self._create_buckets()
        self._create_event_buses()
        self._create_schedule_groups()
        self._create_secrets()
        self._start_emulators()
        return self

    def start_event_sources(self):
        """Poll the template's SQS queues and table streams for their functions (outbound_local.event_sources)."""
        from .event_sources import LocalEventSources

        self.event_sources = LocalEventSources(self).start()
        return self.event_sources

    def start_scheduler(self, interval: float = 0.25):
        """Fire moto's schedules when due (moto never does): see outbound_local.scheduler."""
        from .scheduler import LocalScheduler

        self.scheduler = LocalScheduler(self, interval).start()
        return self.scheduler

    def stop(self) -> None:
        for part in (self.event_sources, self.scheduler, self.http_emulators, self.esl_emulator, self.aws):
            if part is not None:
                part.stop()

    def __enter__(self) -> "LocalStack":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- environment --------------------------------------------------------------------------
    def _resolve(self, value: Any) -> str:
        """A template value with !Ref / !Sub resolved to its local equivalent."""
        if isinstance(value, dict) and "Ref" in value:
            name = value["Ref"]
            if name in self.template.resources:
                kind = self.template.resources[name]["Type"]
                if kind == "AWS::DynamoDB::Table":
                    return self.table_name(name)
                if kind == "AWS::SQS::Queue":
                    return self.queue_url(name)
                if kind == "AWS::S3::Bucket":
                    return self.bucket_name(name)
                return name
            return str(self.parameters.get(name, self.template.parameter_default(name) or ""))
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return self._local_attribute(*value["Fn::GetAtt"])
        if isinstance(value, dict) and "Fn::Sub" in value:
            text = value["Fn::Sub"]
            text = text.replace("${AWS::StackName}", STACK_NAME).replace("${AWS::Region}", REGION)
            text = text.replace("${AWS::URLSuffix}", "amazonaws.com").replace("${AWS::AccountId}", ACCOUNT_ID)
            for name in self.template.parameters:
                text = text.replace("${%s}" % name, self._resolve({"Ref": name}))
            for name in self.template.resources:
                text = text.replace("${%s.Arn}" % name, self._local_attribute(name, "Arn"))
                text = text.replace("${%s}" % name, self._resolve({"Ref": name}))
            return text
        return str(value)

    def table_name(self, logical_id: str) -> str:
        """CallsTable is the table; any other table of the template gets its own name."""
        return TABLE_NAME if logical_id == "CallsTable" else f"{TABLE_NAME}-{logical_id}"

    @staticmethod
    def bucket_name(logical_id: str) -> str:
        return f"local-{logical_id.lower()}"  # bucket names are lowercase DNS names

    def queue_name(self, logical_id: str) -> str:
        """The queue's logical id (a FIFO queue's with the .fifo its name must end with)."""
        props = self.template.resources[logical_id].get("Properties") or {}
        return logical_id + (".fifo" if props.get("FifoQueue") else "")

    def queue_url(self, logical_id: str) -> str:
        return f"{self.aws.endpoint_url}/{ACCOUNT_ID}/{self.queue_name(logical_id)}"

    def queue_arn(self, logical_id: str) -> str:
        return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{self.queue_name(logical_id)}"

    def _local_attribute(self, logical_id: str, attribute: str) -> str:
        """!GetAtt X.Arn of the resources the functions' environment names, as local ARNs
        (the local scheduler maps a target function ARN back to its logical id)."""
        kind = self.template.resources.get(logical_id, {}).get("Type", "")
        if attribute != "Arn":
            return logical_id
        if kind == "AWS::Serverless::Function":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{logical_id}"
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT_ID}:role/{logical_id}"
        if kind == "AWS::SQS::Queue":
            return self.queue_arn(logical_id)
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{self.bucket_name(logical_id)}"
        return f"arn:aws:local:{REGION}:{ACCOUNT_ID}:{logical_id}"

    def function_environment(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for function in self.template.functions().values():
            for key, value in function.environment.items():
                if key != "POWERTOOLS_SERVICE_NAME":  # one process hosts every function
                    env[key] = self._resolve(value)
        return env

    def _configure_environment(self) -> None:
        self._set_environment(self.function_environment())
        self._set_environment({
            "AWS_ENDPOINT_URL": self.aws.endpoint_url,
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
            "OUTBOUND_PROVIDER_TIMEOUT_S": self.provider_timeout_s,
            # Metrics stay on: their EMF lines go to the function logs (stdout), as on Lambda.
            "POWERTOOLS_TRACE_DISABLED": "1",
            # The loopback webhook receiver is reachable locally (never set in template.yaml).
            "OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK": "1",
        })
        from outbound.outcome_events import guard as webhook_guard

        webhook_guard.set_resolver(self.dns.resolve)
        if self.public_url:
            self._set_environment({"PUBLIC_API_URL": self.public_url})
        reset_cached_clients()

    def _set_environment(self, values: dict[str, str]) -> None:
        """The functions' environment: this process's, and what `outbound invoke --local-server`
        gives a function run in another process (it then reaches this stack)."""
        self.environment.update(values)
        os.environ.update(values)

    def boto(self, service: str):
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.aws.endpoint_url,
                            aws_access_key_id="local", aws_secret_access_key="local")

    def _create_tables(self) -> None:
        dynamodb = self.boto("dynamodb")
        for logical_id, args in self.template.tables().items():
            dynamodb.create_table(TableName=self.table_name(logical_id), **args)

    def _create_queues(self) -> None:
        """Every AWS::SQS::Queue of the template in moto, with its attributes and redrive policy."""
        sqs = self.boto("sqs")
        names = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds",
                 "FifoQueue", "ContentBasedDeduplication", "MaximumMessageSize")
        for logical_id, props in self.template.queues().items():
            attributes = {name: str(props[name]).lower() if isinstance(props[name], bool) else str(props[name])
                          for name in names if name in props and not isinstance(props[name], dict)}
            redrive = props.get("RedrivePolicy")
            if redrive:
                attributes["RedrivePolicy"] = json.dumps({
                    "deadLetterTargetArn": self._resolve(redrive["deadLetterTargetArn"]),
                    "maxReceiveCount": int(redrive.get("maxReceiveCount", 3))})
            sqs.create_queue(QueueName=self.queue_name(logical_id), Attributes=attributes)

    def _create_buckets(self) -> None:
        """Every AWS::S3::Bucket, with its queue notifications (moto delivers them to its SQS)."""
        s3 = self.boto("s3")
        for logical_id, resource in self.template.resources.items():
            if resource["Type"] != "AWS::S3::Bucket":
                continue
            name = self.bucket_name(logical_id)
            s3.create_bucket(Bucket=name)
            queues = ((resource.get("Properties") or {}).get("NotificationConfiguration") or {}).get(
                "QueueConfigurations") or []
            if queues:
                s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"QueueConfigurations": [
                    {"QueueArn": self._resolve(q["Queue"]), "Events": [q["Event"]],
                     **({"Filter": {"Key": {"FilterRules": q["Filter"]["S3Key"]["Rules"]}}} if "Filter" in q else {})}
                    for q in queues]})

    def _create_event_buses(self) -> None:
        """Every AWS::Events::EventBus of the template in moto (named by logical id, as !Ref
        resolves locally); what is put on them is listed at GET /_local/events."""
        events = self.boto("events")
        for logical_id, resource in self.template.resources.items():
            if resource["Type"] == "AWS::Events::EventBus":
                events.create_event_bus(Name=logical_id)

    def published_events(self) -> list[dict[str, Any]]:
        return self.aws.app.published_events()

    def _create_schedule_groups(self) -> None:
        """Every AWS::Scheduler::ScheduleGroup of the template, in moto's Scheduler (named as
        the functions' environment names them: by logical id)."""
        scheduler = self.boto("scheduler")
        for logical_id, resource in self.template.resources.items():
            if resource["Type"] == "AWS::Scheduler::ScheduleGroup":
                scheduler.create_schedule_group(Name=logical_id)

    def _create_secrets(self) -> None:
        """Every AWS::SecretsManager::Secret of the template (named by logical id, as !Ref
        resolves locally), with a random value as GenerateSecretString would make."""
        import secrets as random

        client = self.boto("secretsmanager")
        for logical_id, resource in self.template.resources.items():
            if resource["Type"] == "AWS::SecretsManager::Secret":
                client.create_secret(Name=logical_id, SecretString=random.token_urlsafe(48))

    # --- emulators ----------------------------------------------------------------------------
    def accepted_credentials(self, provider: str) -> list[dict]:
        """What an emulator accepts: the provider accounts as last snapshotted (see
        :meth:`snapshot_provider_accounts`), never what Secrets Manager holds right now."""
        return self.provider_accounts(provider)

    def snapshot_provider_accounts(self) -> dict[str, int]:
        """Register, as the providers' accounts, every organization's credentials currently in
        (local) Secrets Manager under the stack's prefix. Returns how many per provider."""
        from outbound.providers import PROVIDERS

        prefix = os.environ["CREDENTIALS_SECRET_PREFIX"]
        client = self.boto("secretsmanager")
        accounts: dict[str, list[dict]] = {provider: [] for provider in PROVIDERS}
        for page in client.get_paginator("list_secrets").paginate():
            for secret in page["SecretList"]:
                name = secret["Name"]
                provider = name.rpartition("/")[2]
                if not name.startswith(prefix) or provider not in accounts:
                    continue
                try:
                    value = json.loads(client.get_secret_value(SecretId=secret["ARN"]).get("SecretString") or "")
                except ValueError:
                    continue  # not a credentials object: no provider would know such an account
                if isinstance(value, dict):
                    accounts[provider].append(value)
        self.provider_accounts.replace(accounts)
        return self.provider_accounts.counts()

    def _start_emulators(self) -> None:
        modules = _emulator_modules()
        routes = {"/2010-04-01/": ("twilio", modules["twilio"].handle),
                  "/v2/": ("telnyx", modules["telnyx"].handle),
                  "/v1/": ("vonage", modules["vonage"].handle)}
        self.http_emulators = HttpEmulatorHost(routes, self.requests, self.accepted_credentials).start()
        self.esl_emulator = modules["sip"].EslEmulator(self.requests, self.accepted_credentials).start()
        self._set_environment({
            "OUTBOUND_TWILIO_API_URL": self.http_emulators.url,
            "OUTBOUND_TELNYX_API_URL": self.http_emulators.url + "/v2",
            "OUTBOUND_VONAGE_API_URL": self.http_emulators.url,
            "OUTBOUND_SIP_BRIDGE": self.esl_emulator.address,
        })

    @staticmethod
    def default_credentials() -> dict[str, dict]:
        """The emulators' own credentials, for organizations whose fixture gives none."""
        return {name: module.DEFAULT_CREDENTIALS for name, module in _emulator_modules().items()}

    # --- data ---------------------------------------------------------------------------------
    def seed(self, path: str | Path = DEMO_FIXTURE) -> dict[str, int]:
        data = fixtures.read(path)
        counts = fixtures.load(data, self.boto("secretsmanager"), self.default_credentials())
        self.snapshot_provider_accounts()
        return counts

    def aws_info(self) -> dict[str, str]:
        return {"endpoint_url": self.aws.endpoint_url, "table_name": TABLE_NAME, "region": REGION,
                "credentials_secret_prefix": os.environ["CREDENTIALS_SECRET_PREFIX"],
                "environment": dict(self.environment)}

    def dynamodb_operations(self, exclude_event_sources: bool = False, functions: list[str] | None = None) -> dict[str, int]:
        """Operations served by the local DynamoDB: optionally not those made by the functions the
        event sources invoke (background consumers: only what requests caused), or only those of
        the named ``functions``."""
        exclude = {s.function for s in self.template.event_sources()} if exclude_event_sources else set()
        return dict(self.aws.app.operation_counts(exclude, set(functions) if functions else None))
