"""healthchat.local.template: CFN short tags become long-form dicts; handlers come from the functions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from healthchat.local.template import function_handlers, load_template

ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    CodeUri: functions/
    Handler: default.app.lambda_handler
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  OwnFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: own.app.lambda_handler
      Environment:
        Variables:
          BUCKET: !Ref Bucket
          ARN: !GetAtt Bucket.Arn
          NESTED: !GetAtt Stack.Outputs.Name
          URL: !Sub https://${Bucket}.s3.amazonaws.com
          JOINED: !Join ["-", [a, !Ref AWS::Region]]
          PICKED: !If [IsProd, !Select [0, !Split [",", "a,b"]], !Base64 x]
  DefaultFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: other/
  ImageFunction:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      CodeUri: {Bucket: b, Key: k}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
"""


@pytest.fixture
def template_file(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    return path


def test_short_tags_load_as_their_long_json_forms(template_file: Path) -> None:
    # GIVEN a template using !Ref, !GetAtt, !Sub, !Join, !If, !Select, !Split, !Base64, !Equals
    # WHEN it is loaded
    template = load_template(template_file)
    # THEN each tag is the dict CloudFormation's JSON syntax would hold
    env = template["Resources"]["OwnFunction"]["Properties"]["Environment"]["Variables"]
    assert env["BUCKET"] == {"Ref": "Bucket"}
    assert env["ARN"] == {"Fn::GetAtt": ["Bucket", "Arn"]}
    assert env["NESTED"] == {"Fn::GetAtt": ["Stack", "Outputs.Name"]}
    assert env["URL"] == {"Fn::Sub": "https://${Bucket}.s3.amazonaws.com"}
    assert env["JOINED"] == {"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}]]}
    assert env["PICKED"] == {
        "Fn::If": ["IsProd", {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}, {"Fn::Base64": "x"}]
    }
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_handlers_fall_back_to_globals_and_skip_non_zip_functions(template_file: Path) -> None:
    # WHEN the handlers of the sample template are listed
    handlers = function_handlers(load_template(template_file))
    # THEN each zip function has (CodeUri, Handler), Globals filling what it leaves out
    assert handlers == {
        "OwnFunction": ("functions/", "own.app.lambda_handler"),
        "DefaultFunction": ("other/", "default.app.lambda_handler"),
    }


def test_the_project_template_names_a_plain_string_handler_for_every_stage() -> None:
    handlers = function_handlers(load_template(ROOT / "template.yaml"))
    assert handlers["ExtractTextFunction"] == ("functions/", "extract_text.app.lambda_handler")
    assert {h.split(".")[0] for _, h in handlers.values()} == {
        "register_document", "extract_text", "extract_medical", "summarize", "simplify",
        "interpret_labs", "suggest_tips", "publish_result", "record_failure", "reprocess",
        "query_api", "ask_question",
    }  # fmt: skip


def test_empty_file_is_an_empty_template_and_a_list_is_rejected(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n", encoding="utf-8")
    assert load_template(empty) == {}
    with pytest.raises(ValueError, match="not a YAML mapping"):
        load_template(listing)


def test_unknown_tags_and_python_objects_are_refused(tmp_path: Path) -> None:
    # GIVEN YAML asking to build a Python object (the loader is a SafeLoader underneath)
    path = tmp_path / "evil.yaml"
    path.write_text("x: !!python/object/apply:os.system [echo hi]\n", encoding="utf-8")
    # THEN it is refused rather than executed
    with pytest.raises(yaml.constructor.ConstructorError):
        load_template(path)
