"""template.yaml's promises for the call lifecycle: the webhook route (and the OpenAPI document and
the web console's files) are the only ones without the API-key authorizer, and every function's policy is least-privilege (no Scan anywhere)."""
from outbound_local.template import TEMPLATE_PATH, Template

TEMPLATE = Template(TEMPLATE_PATH)


def statements(function):
    for policy in TEMPLATE.resources[function]["Properties"]["Policies"]:
        yield from policy["Statement"]


def actions(statement):
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


def test_only_the_webhook_route_skips_the_api_key_authorizer():
    routes = {(r.method, r.path): r for r in TEMPLATE.routes()}
    assert routes[("POST", "/webhooks/{provider}")].function == "ProviderCallbacksFunction"
    assert routes[("POST", "/webhooks/{provider}")].authorizer is None
    for key in (("GET", "/calls"), ("GET", "/organization/balance")):
        assert routes[key].function == "CallsApiFunction"
    # ...and the OpenAPI document and the web console's files, which hold no data (functions of
    # their own, with no policy: they read nothing).
    assert sorted(key for key, route in routes.items() if route.authorizer is None) == [
        ("GET", "/console"), ("GET", "/console/{proxy+}"), ("GET", "/openapi.json"), ("POST", "/webhooks/{provider}")]
    assert routes[("GET", "/openapi.json")].function == "OpenApiFunction"
    assert {routes[("GET", "/console")].function, routes[("GET", "/console/{proxy+}")].function} == {"ConsoleFunction"}
    for function in ("OpenApiFunction", "ConsoleFunction"):
        assert "Policies" not in TEMPLATE.resources[function]["Properties"]


def test_webhooks_function_policy_is_least_privilege():
    granted = {action: statement["Resource"] for statement in statements("ProviderCallbacksFunction")
               for action in actions(statement)}
    assert set(granted) == {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:PutItem",
                            "secretsmanager:GetSecretValue"}  # PutItem: ledger entries only (test_operations_template)
    assert granted["dynamodb:Query"] == {"Fn::Sub": "${CallsTable.Arn}/index/ByCallSid"}
    assert "outbound/${AWS::StackName}/*" in granted["secretsmanager:GetSecretValue"]["Fn::Sub"]


def test_listing_queries_the_organization_index_and_nothing_scans():
    queries = [statement["Resource"] for statement in statements("CallsApiFunction")
               if "dynamodb:Query" in actions(statement)]
    assert {"Fn::Sub": "${CallsTable.Arn}/index/ByOrganization"} in queries[0]
    for function in ("CallsApiFunction", "ProviderCallbacksFunction", "ApiKeyAuthorizerFunction"):
        assert not any("dynamodb:Scan" in actions(s) for s in statements(function))


def test_webhooks_function_knows_the_public_url_and_the_rate():
    env = TEMPLATE.functions()["ProviderCallbacksFunction"].environment
    assert env["PUBLIC_API_URL"] == {"Ref": "PublicApiUrl"}
    assert env["PER_MINUTE_RATE_CENTS"] == {"Ref": "PerMinuteRateCents"}
