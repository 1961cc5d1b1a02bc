"""The TOKEN authorizer's pure parts: bearer parsing and a policy that a cached result can reuse."""
import importlib.util

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("authorizer_app", ROOT / "functions/api_key_authorizer/app.py")
authorizer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(authorizer)


def test_bearer_token_parsing():
    assert authorizer.bearer_token("Bearer sk_live_x") == "sk_live_x"
    assert authorizer.bearer_token("bearer   sk_live_x ") == "sk_live_x"
    for header in (None, "", "Bearer", "Bearer ", "Basic abc", "sk_live_x"):
        assert authorizer.bearer_token(header) is None


def test_policy_allows_every_route_of_the_stage():
    """API Gateway caches the policy per token: it must cover routes other than the first one."""
    policy = authorizer.allow("org_a", "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/POST/calls/initiate",
                              {"organization_id": "org_a"})
    [statement] = policy["policyDocument"]["Statement"]
    assert statement == {"Action": "execute-api:Invoke", "Effect": "Allow",
                         "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/*/*"]}
    assert policy["context"] == {"organization_id": "org_a"} and policy["principalId"] == "org_a"
