"""Reads template.yaml: the API's routes, the functions, the tables, the authorizer."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, !GetAtt ...) as their long forms."""


def _tag(loader: yaml.Loader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, e.g. /calls/{call_ref}
    function: str  # logical id
    pattern: re.Pattern
    authorizer: str | None = "default"  # None: `Auth: {Authorizer: NONE}` (no authorizer runs)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method:
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path
    handler: str  # module.function
    environment: dict[str, Any]
    timeout_s: float = 3.0  # Lambda's default when neither the function nor Globals set one


@dataclass(frozen=True)
class EventSource:
    """An event source mapping: a queue or a table's stream, polled for a function."""

    function: str
    name: str
    kind: str  # "SQS" or "DynamoDB"
    source: str  # the queue's or the table's logical id
    batch_size: int
    report_failures: bool  # FunctionResponseTypes: [ReportBatchItemFailures]
    filters: list  # FilterCriteria patterns (a record passes if any matches; none: all pass)
    max_concurrency: int  # SQS: ScalingConfig.MaximumConcurrency (2 locally when not set)
    max_retries: int  # DynamoDB: MaximumRetryAttempts (-1: until the record expires)
    starting_position: str  # DynamoDB: LATEST or TRIM_HORIZON


def json_loads(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Authorizer:
    function: str
    header: str
    ttl_seconds: int


class Template:
    def __init__(self, path: Path = TEMPLATE_PATH):
        self.path = path
        self.doc = yaml.load(path.read_text(), Loader=_CfnLoader)
        self.resources: dict[str, dict] = self.doc["Resources"]
        self.parameters: dict[str, dict] = self.doc.get("Parameters", {})

    def parameter_default(self, name: str) -> Any:
        return self.parameters.get(name, {}).get("Default")

    def functions(self) -> dict[str, Function]:
        globals_ = self.doc.get("Globals", {}).get("Function", {})
        global_env = globals_.get("Environment", {}).get("Variables", {})
        found = {}
        for logical_id, resource in self.resources.items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            props = resource["Properties"]
            env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
            timeout = float(props.get("Timeout", globals_.get("Timeout", 3)))
            found[logical_id] = Function(logical_id, self.path.parent / props["CodeUri"], props["Handler"], env,
                                         timeout)
        return found

    def routes(self) -> list[Route]:
        routes = []
        for logical_id, resource in self.resources.items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            for event in resource["Properties"].get("Events", {}).values():
                if event["Type"] != "Api":
                    continue
                props = event["Properties"]
                regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(props["Path"]))
                authorizer = (props.get("Auth") or {}).get("Authorizer", "default")
                routes.append(Route(props["Method"].upper(), props["Path"], logical_id, re.compile(regex),
                                    None if authorizer == "NONE" else authorizer))
        return routes

    def api(self) -> dict:
        return next(r["Properties"] for r in self.resources.values() if r["Type"] == "AWS::Serverless::Api")

    def authorizer(self) -> Authorizer:
        auth = self.api()["Auth"]
        config = auth["Authorizers"][auth["DefaultAuthorizer"]]
        ttl = config["Identity"].get("ReauthorizeEvery", 300)
        if isinstance(ttl, dict):  # !Ref to a parameter
            ttl = self.parameter_default(ttl["Ref"])
        return Authorizer(config["FunctionArn"]["Fn::GetAtt"][0], config["Identity"]["Header"], int(ttl))

    def gateway_response(self, kind: str) -> tuple[int | None, str] | None:
        """(status, body) of a gateway response such as UNAUTHORIZED (status None: the default)."""
        response = self.api().get("GatewayResponses", {}).get(kind)
        if response is None:
            return None
        status = response.get("StatusCode")
        return (int(status) if status else None), response["ResponseTemplates"]["application/json"]

    def gateway_response_headers(self, kind: str) -> dict[str, str]:
        """The headers a gateway response sets (``ResponseParameters.Headers``: quoted literals)."""
        response = self.api().get("GatewayResponses", {}).get(kind) or {}
        headers = (response.get("ResponseParameters") or {}).get("Headers") or {}
        return {name: str(value).strip("'") for name, value in headers.items()}

    def tables(self) -> dict[str, dict]:
        """CreateTable arguments of every AWS::DynamoDB::Table, straight from its properties."""
        tables = {}
        for logical_id, resource in self.resources.items():
            if resource["Type"] != "AWS::DynamoDB::Table":
                continue
            props = resource["Properties"]
            args = {k: props[k] for k in ("AttributeDefinitions", "KeySchema", "BillingMode") if k in props}
            if "GlobalSecondaryIndexes" in props:
                args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            if "StreamSpecification" in props:  # CloudFormation says only the view type
                args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
            tables[logical_id] = args
        return tables

    def queues(self) -> dict[str, dict]:
        """Every AWS::SQS::Queue's properties, dead-letter queues first (a redrive policy names them)."""
        queues = {logical_id: r.get("Properties") or {} for logical_id, r in self.resources.items()
                  if r["Type"] == "AWS::SQS::Queue"}

        def targets(props: dict) -> int:
            return 1 if "RedrivePolicy" in props else 0  # dead-letter queues first
        return dict(sorted(queues.items(), key=lambda item: targets(item[1])))

    def event_sources(self) -> list[EventSource]:
        """The functions' SQS and DynamoDB-stream event source mappings (SAM ``Events``)."""
        found = []
        for logical_id, resource in self.resources.items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            for name, event in (resource["Properties"].get("Events") or {}).items():
                if event["Type"] not in ("SQS", "DynamoDB"):
                    continue
                props = event["Properties"]
                source = props["Queue"] if event["Type"] == "SQS" else props["Stream"]
                found.append(EventSource(
                    function=logical_id, name=name, kind=event["Type"],
                    source=source["Fn::GetAtt"][0] if isinstance(source, dict) and "Fn::GetAtt" in source else str(source),
                    batch_size=int(props.get("BatchSize", 10 if event["Type"] == "SQS" else 100)),
                    report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                    filters=[json_loads(f["Pattern"]) for f in (props.get("FilterCriteria") or {}).get("Filters", [])],
                    max_concurrency=int((props.get("ScalingConfig") or {}).get("MaximumConcurrency", 2)),
                    max_retries=int(props.get("MaximumRetryAttempts", -1)),
                    starting_position=props.get("StartingPosition", "LATEST")))
        return found


@lru_cache(maxsize=1)
def load() -> Template:
    return Template()
