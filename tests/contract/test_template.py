"""template.yaml: valid for CloudFormation (cfn-lint), and the properties operators rely on."""
import subprocess
import sys
from pathlib import Path

from outbound_local.template import TEMPLATE_PATH, Template

TEMPLATE = Template(TEMPLATE_PATH)


def test_cfn_lint_passes():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"  # the venv's console script
    done = subprocess.run([str(cfn_lint), str(TEMPLATE_PATH)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_table_is_on_demand_encrypted_and_recoverable():
    table = TEMPLATE.resources["CallsTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"ByOrganization", "ByCallSid", "ByInitiating",
                                                                        "ByProviderCheck"}


def test_every_route_is_behind_the_cached_api_key_authorizer():
    authorizer = TEMPLATE.authorizer()
    assert authorizer.function == "ApiKeyAuthorizerFunction" and authorizer.header == "Authorization"
    assert authorizer.ttl_seconds > 0
    assert {(r.method, r.path) for r in TEMPLATE.routes()} >= {("POST", "/calls/initiate"), ("GET", "/calls/{call_ref}")}
    assert TEMPLATE.gateway_response("UNAUTHORIZED") == (401, '{"detail": "Invalid or missing API key"}')


def test_policies_are_scoped_to_resources():
    for function in ("ApiKeyAuthorizerFunction", "CallsApiFunction"):
        for policy in TEMPLATE.resources[function]["Properties"]["Policies"]:
            for statement in policy["Statement"]:
                assert statement["Resource"] != "*", (function, statement)
                assert not any(action.endswith(":*") for action in
                               ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]))


def test_api_url_is_an_output():
    assert "execute-api" in TEMPLATE.doc["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]


def test_each_function_folder_is_named_after_its_logical_id():
    """CallsApiFunction lives in functions/calls_api/: a newcomer finds a function's code from its id."""
    import re

    from tests.conftest import ROOT

    folders = {}
    for name, resource in TEMPLATE.resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name.removesuffix("Function")).lower()
            assert resource["Properties"]["CodeUri"] == f"functions/{snake}/", name
            folders[snake] = name
    on_disk = {p.name for p in (ROOT / "functions").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert on_disk == set(folders), "a folder in functions/ that no function uses, or the other way round"


def test_the_import_function_knows_its_queues_last_delivery():
    """CampaignImportFunction marks an import failed on the message's last delivery: it must be
    told the queue's maxReceiveCount (CloudFormation cannot read it off the queue for it)."""
    redrive = TEMPLATE.resources["CampaignImportsQueue"]["Properties"]["RedrivePolicy"]
    environment = TEMPLATE.functions()["CampaignImportFunction"].environment
    assert int(environment["IMPORTS_MAX_RECEIVE_COUNT"]) == int(redrive["maxReceiveCount"])
