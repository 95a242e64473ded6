"""template.yaml's query API: Cognito JWT on every data route, least-privilege functions, encrypted logs.

Static checks over the parsed template (healthchat.local.template.load_template), so a route added
without the authorizer or a widened policy fails here before `make validate` or a deploy.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from healthchat.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
Json = dict[str, Any]

PUBLIC_ROUTES = {"GET /openapi.json", "GET /swagger"}
QUERY_ROUTES = {
    "POST /documents",
    "GET /documents",
    "GET /documents/{id}",
    "DELETE /documents/{id}",
    "GET /documents/{id}/fhir",
    "GET /glossary/{term}",
    *PUBLIC_ROUTES,
}
ASK_ROUTES = {"POST /documents/{id}/questions", "POST /questions"}


@pytest.fixture(scope="module")
def template() -> Json:
    return load_template(ROOT / "template.yaml")


def http_routes(template: Json) -> Iterator[tuple[str, str, Json]]:
    """(function logical id, "METHOD /path", event properties) for every HttpApi event."""
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                yield logical_id, f"{props['Method'].upper()} {props['Path']}", props


def route_authorizer(template: Json, props: Json) -> str | None:
    """The authorizer API Gateway applies to a route: its own, else the API's default."""
    api = template["Resources"][props["ApiId"]["Ref"]]["Properties"]
    own = (props.get("Auth") or {}).get("Authorizer")
    return own or (api.get("Auth") or {}).get("DefaultAuthorizer")


def unauthenticated_routes(template: Json) -> set[str]:
    """Routes that API Gateway would call without verifying a Cognito token."""
    out = set()
    for _, route, props in http_routes(template):
        api = template["Resources"][props["ApiId"]["Ref"]]["Properties"]
        authorizer = route_authorizer(template, props)
        jwt = (
            (api["Auth"]["Authorizers"].get(authorizer) or {}).get("JwtConfiguration") if authorizer else None
        )
        if not jwt:
            out.add(route)
    return out


def statements(function: Json) -> Iterator[tuple[str | None, Json]]:
    """(condition or None, statement) for every inline statement, both branches of an Fn::If."""
    for policy in function["Properties"].get("Policies", []):
        for item in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if "Fn::If" in item:
                condition, *branches = item["Fn::If"]
                for branch in branches:
                    if branch != {"Ref": "AWS::NoValue"}:
                        yield condition, branch
            else:
                yield None, item


def actions(statement: Json) -> list[str]:
    value = statement["Action"]
    return [value] if isinstance(value, str) else list(value)


def wildcard_s3_allows(template: Json) -> list[str]:
    """``Function/Sid: action`` for every allowed S3 action with a wildcard, in any function."""
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for _, statement in statements(resource):
            for action in actions(statement):
                if statement["Effect"] == "Allow" and action.startswith("s3:") and "*" in action:
                    found.append(f"{logical_id}/{statement.get('Sid')}: {action}")
    return found


def function(template: Json, logical_id: str) -> Json:
    resource: Json = template["Resources"][logical_id]
    assert resource["Type"] == "AWS::Serverless::Function"
    return resource


# ------------------------------------------------------------------ routes and auth


def test_the_api_routes_are_exactly_the_contracts_split_over_the_two_functions(template: Json) -> None:
    # GIVEN every HttpApi event in the template
    by_function: dict[str, set[str]] = {}
    for logical_id, route, props in http_routes(template):
        assert props["ApiId"] == {"Ref": "HttpApi"}, route
        by_function.setdefault(logical_id, set()).add(route)
    # THEN the polling function serves the document routes and Q&A goes to its own function
    assert by_function == {"QueryApiFunction": QUERY_ROUTES, "AskQuestionFunction": ASK_ROUTES}


def test_every_route_but_the_api_description_needs_a_cognito_jwt(template: Json) -> None:
    # GIVEN the API's JWT authorizer
    api = template["Resources"]["HttpApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "CognitoJwt"
    jwt = api["Auth"]["Authorizers"]["CognitoJwt"]
    assert jwt["IdentitySource"] == "$request.header.Authorization"
    # THEN it trusts only this stack's user pool and app client
    assert jwt["JwtConfiguration"]["issuer"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    }
    assert jwt["JwtConfiguration"]["audience"] == [{"Ref": "UserPoolClient"}]
    # AND only the OpenAPI document and Swagger UI are reachable without a token
    assert unauthenticated_routes(template) == PUBLIC_ROUTES
    for _, route, props in http_routes(template):
        expected = "NONE" if route in PUBLIC_ROUTES else "CognitoJwt"
        assert route_authorizer(template, props) == expected, route


def test_a_route_that_opts_out_of_the_authorizer_is_reported(template: Json) -> None:
    # GIVEN a copy where DELETE /documents/{id} is public and the default authorizer is gone
    bad = copy.deepcopy(template)
    events = bad["Resources"]["QueryApiFunction"]["Properties"]["Events"]
    events["DeleteDocument"]["Properties"]["Auth"] = {"Authorizer": "NONE"}
    # THEN the check names that route
    assert unauthenticated_routes(bad) == PUBLIC_ROUTES | {"DELETE /documents/{id}"}
    del bad["Resources"]["HttpApi"]["Properties"]["Auth"]["DefaultAuthorizer"]
    assert unauthenticated_routes(bad) >= QUERY_ROUTES - PUBLIC_ROUTES


def test_the_user_pool_client_is_public_srp_only_and_hides_which_accounts_exist(template: Json) -> None:
    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert client["UserPoolId"] == {"Ref": "UserPool"}
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True
    # access tokens live an hour at most
    assert client["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert client["AccessTokenValidity"] <= 60


def test_the_user_pool_signs_in_by_email_with_a_strong_password_and_totp(template: Json) -> None:
    pool = template["Resources"]["UserPool"]
    props = pool["Properties"]
    assert props["UsernameAttributes"] == ["email"]
    password = props["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(password[k] is True for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers"))
    assert password["RequireSymbols"] is True
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert props["MfaConfiguration"] == {"Ref": "UserPoolMfa"}
    assert template["Parameters"]["UserPoolMfa"]["AllowedValues"] == ["OPTIONAL", "ON"]
    # records are keyed by `sub`: the pool is kept when the stack goes, and protected by default
    assert pool["DeletionPolicy"] == "Retain"
    assert props["DeletionProtection"] == {"Fn::If": ["ProtectsUserPool", "ACTIVE", "INACTIVE"]}
    assert template["Parameters"]["UserPoolDeletionProtection"]["Default"] == "true"


def test_hosted_ui_sign_in_is_code_flow_only_and_only_back_to_the_web_app(template: Json) -> None:
    # GIVEN the app client's OAuth settings
    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    no_value = {"Ref": "AWS::NoValue"}
    # THEN with WebAppUrl set: authorization code flow only (no implicit tokens in URLs), openid + email,
    # and that one URL as the callback and sign-out target; without it, no OAuth at all
    assert client["AllowedOAuthFlowsUserPoolClient"] == {"Fn::If": ["HasWebApp", True, False]}
    assert client["AllowedOAuthFlows"] == {"Fn::If": ["HasWebApp", ["code"], no_value]}
    assert client["AllowedOAuthScopes"] == {"Fn::If": ["HasWebApp", ["openid", "email"], no_value]}
    for key in ("CallbackURLs", "LogoutURLs"):
        assert client[key] == {"Fn::If": ["HasWebApp", [{"Ref": "WebAppUrl"}], no_value]}, key
    assert client["GenerateSecret"] is False  # a browser cannot keep a secret: PKCE instead
    assert template["Conditions"]["HasWebApp"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "WebAppUrl"}, ""]}]}


def test_web_app_url_must_be_https_except_localhost(template: Json) -> None:
    param = template["Parameters"]["WebAppUrl"]
    assert param["Default"] == ""
    pattern = re.compile(param["AllowedPattern"])
    for good in (
        "",
        "https://app.example.org/",
        "https://d1.cloudfront.net/index.html",
        "http://localhost:8080/",
    ):
        assert pattern.fullmatch(good), good
    for bad in ("http://app.example.org/", "https://a.example,https://b.example", "javascript:alert(1)", "*"):
        assert not pattern.fullmatch(bad), bad


def test_the_hosted_ui_domain_comes_from_its_prefix_parameter(template: Json) -> None:
    domain = template["Resources"]["UserPoolDomain"]
    assert domain["Type"] == "AWS::Cognito::UserPoolDomain"
    assert domain["Condition"] == "HasHostedUi"
    assert domain["Properties"]["Domain"] == {"Ref": "HostedUiDomainPrefix"}
    assert domain["Properties"]["UserPoolId"] == {"Ref": "UserPool"}
    assert template["Conditions"]["HasHostedUi"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "HostedUiDomainPrefix"}, ""]}]
    }
    outputs = template["Outputs"]
    assert outputs["HostedUiDomain"]["Condition"] == "HasHostedUi"
    assert outputs["HostedUiDomain"]["Value"] == {
        "Fn::Sub": "${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"
    }
    # the web app's config.json, exactly the keys web/app.js reads
    config = outputs["WebAppConfig"]
    assert config["Condition"] == "HasWebAppSignIn"
    keys = json.loads(re.sub(r"\$\{[^}]*\}", "x", config["Value"]["Fn::Sub"]))
    assert set(keys) == {"apiBaseUrl", "cognitoDomain", "clientId", "redirectUri"}


def test_cors_is_off_unless_origins_are_given(template: Json) -> None:
    api = template["Resources"]["HttpApi"]["Properties"]
    condition, allowed, otherwise = api["CorsConfiguration"]["Fn::If"]
    assert condition == "HasApiCors"
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert allowed["AllowOrigins"] == {"Fn::Split": [",", {"Ref": "ApiAllowedOrigins"}]}
    assert template["Parameters"]["ApiAllowedOrigins"]["Default"] == ""
    assert template["Conditions"]["HasApiCors"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ApiAllowedOrigins"}, ""]}]
    }


def test_the_stage_throttles_every_route_and_logs_access_as_json_without_paths(template: Json) -> None:
    api = template["Resources"]["HttpApi"]["Properties"]
    assert set(api["DefaultRouteSettings"]) >= {"ThrottlingRateLimit", "ThrottlingBurstLimit"}
    logs = api["AccessLogSettings"]
    assert logs["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]}
    fields = json.loads(logs["Format"])
    assert fields["routeKey"] == "$context.routeKey"
    # the path holds document ids and glossary terms; the caller's IP and sub identify a person
    values = set(fields.values())
    assert not values & {"$context.path", "$context.identity.sourceIp", "$context.authorizer.claims.sub"}


# ------------------------------------------------------------------ least privilege


def test_the_query_function_has_no_model_permission_and_no_langchain_layer(template: Json) -> None:
    query = function(template, "QueryApiFunction")
    assert "Layers" not in query["Properties"]
    assert not [
        a for _, s in statements(query) for a in actions(s) if a.startswith(("bedrock:", "sagemaker:"))
    ]
    assert query["Properties"]["MemorySize"] <= 512
    assert query["Properties"]["Timeout"] <= 10


def test_the_query_function_writes_uploads_only_under_the_uploads_prefix(template: Json) -> None:
    query = function(template, "QueryApiFunction")
    by_sid = {s["Sid"]: s for _, s in statements(query)}
    # a presigned PUT acts with the role's rights, so this scope bounds what an upload URL can write
    assert actions(by_sid["PresignUploads"]) == ["s3:PutObject"]
    assert by_sid["PresignUploads"]["Resource"] == {"Fn::Sub": "${UploadBucket.Arn}/uploads/*"}
    assert by_sid["ListUploads"]["Condition"] == {"StringLike": {"s3:prefix": ["uploads/*"]}}
    assert set(actions(by_sid["DocumentRecords"])) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    }
    put_resources = [s["Resource"] for _, s in statements(query) if "s3:PutObject" in actions(s)]
    assert put_resources == [{"Fn::Sub": "${UploadBucket.Arn}/uploads/*"}]


def test_only_the_query_function_may_erase_object_versions(template: Json) -> None:
    # S3BlobStore.delete lists and deletes every version on the versioned buckets: without
    # ListBucketVersions on both buckets DELETE /documents/{id} fails with AccessDenied part-way
    query = function(template, "QueryApiFunction")
    granted: dict[str, set[str]] = {}
    for _, s in statements(query):
        for action in actions(s):
            granted.setdefault(action, set()).add(json.dumps(s["Resource"], sort_keys=True))
    assert granted["s3:ListBucketVersions"] == {
        json.dumps({"Fn::GetAtt": ["UploadBucket", "Arn"]}),
        json.dumps({"Fn::GetAtt": ["DataBucket", "Arn"]}),
    }
    assert len(granted["s3:DeleteObjectVersion"]) == 2
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function" and logical_id != "QueryApiFunction":
            others = {a for _, s in statements(resource) for a in actions(s)}
            assert not others & {"s3:ListBucketVersions", "s3:DeleteObjectVersion"}, logical_id


def test_the_ask_function_carries_the_layer_and_calls_models_only_when_configured(template: Json) -> None:
    ask = function(template, "AskQuestionFunction")
    props = ask["Properties"]
    assert props["Layers"] == [{"Ref": "LangChainLayer"}]
    assert props["Timeout"] < 30  # API Gateway's HTTP API integration limit
    model_statements = [
        (c, s) for c, s in statements(ask) if any(a.startswith("bedrock:") for a in actions(s))
    ]
    assert {c for c, _ in model_statements} == {"HasQaModel", "HasEmbeddingsModel"}
    # read-only on the data: no write, no delete, no table change
    writes = [
        a
        for _, s in statements(ask)
        for a in actions(s)
        if a.split(":")[1].startswith(("Put", "Delete", "Update"))
    ]
    assert writes == []
    env = props["Environment"]["Variables"]
    assert env["HEALTHCHAT_QA"] == {"Fn::If": ["HasQaModel", "llm", "extractive"]}
    assert env["HEALTHCHAT_EMBEDDINGS"] == {"Fn::If": ["HasEmbeddingsModel", "bedrock", "none"]}
    assert env["HEALTHCHAT_KB"] == {"Fn::Sub": "s3://${DataBucket}/kb"}


def test_both_api_functions_trust_the_jwt_owner(template: Json) -> None:
    for logical_id in ("QueryApiFunction", "AskQuestionFunction"):
        env = function(template, logical_id)["Properties"]["Environment"]["Variables"]
        assert env["HEALTHCHAT_AUTH"] == "jwt", logical_id
    assert template["Globals"]["Function"]["Environment"]["Variables"]["HEALTHCHAT_RUNTIME"] == "aws"


def test_no_function_is_allowed_a_wildcard_s3_action(template: Json) -> None:
    assert wildcard_s3_allows(template) == []


def test_a_wildcard_s3_action_is_reported(template: Json) -> None:
    bad = copy.deepcopy(template)
    statement = next(
        s for _, s in statements(bad["Resources"]["QueryApiFunction"]) if s["Sid"] == "EraseUploads"
    )
    statement["Action"] = "s3:*"
    assert wildcard_s3_allows(bad) == ["QueryApiFunction/EraseUploads: s3:*"]


# ------------------------------------------------------------------ logs and sample events


def test_every_log_group_is_encrypted_with_the_data_key_and_expires(template: Json) -> None:
    groups = {
        k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::Logs::LogGroup"
    }
    assert {"HttpApiAccessLogGroup", "QueryApiLogGroup", "AskQuestionLogGroup"} <= set(groups)
    for logical_id, props in groups.items():
        assert props["KmsKeyId"] == {"Fn::GetAtt": ["HealthChatKey", "Arn"]}, logical_id
        assert props["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id
    # the API invokes nothing before its functions' log groups exist
    assert set(template["Resources"]["HttpApi"]["DependsOn"]) == {"QueryApiLogGroup", "AskQuestionLogGroup"}


def test_the_outputs_give_a_client_what_it_needs_to_sign_in_and_call(template: Json) -> None:
    outputs = template["Outputs"]
    assert outputs["UserPoolId"]["Value"] == {"Ref": "UserPool"}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": "UserPoolClient"}
    assert "${HttpApi}.execute-api" in outputs["ApiUrl"]["Value"]["Fn::Sub"]


@pytest.mark.parametrize(
    "name", ["api_get_document.json", "api_create_document.json", "api_ask_question.json"]
)
def test_sample_api_events_name_a_protected_route_and_carry_a_subject(template: Json, name: str) -> None:
    event = json.loads((ROOT / "events" / name).read_text(encoding="utf-8"))
    routes = {route for _, route, _ in http_routes(template)}
    assert event["routeKey"] in routes - PUBLIC_ROUTES
    assert event["requestContext"]["routeKey"] == event["routeKey"]
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
    if event["routeKey"].startswith("POST "):
        assert isinstance(json.loads(event["body"]), dict)
