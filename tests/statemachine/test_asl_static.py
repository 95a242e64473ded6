"""Static checks of statemachines/document_pipeline.asl.json against template.yaml (no execution).

Each check is a function returning the problems it found, run on the real files (no problems) and
on a broken copy (the problem is reported), so a check that silently passes everything fails here.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from healthchat.local.template import function_handlers, load_template

ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = ROOT / "statemachines" / "document_pipeline.asl.json"
TEMPLATE_PATH = ROOT / "template.yaml"
STATE_MACHINE = "DocumentPipelineStateMachine"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
RETRIED_ERRORS = ("ThrottlingError", "TransientError")
MAX_ATTEMPTS = 6
PHI_KEYS = {"text", "content", "body"}
PAYLOAD_FIELDS = ("Parameters", "ResultSelector", "ItemSelector", "Arguments", "Result")

Json = dict[str, Any]
Scope = dict[str, Json]


@pytest.fixture(scope="module")
def asl() -> Json:
    return json.loads(ASL_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def template() -> Json:
    return load_template(TEMPLATE_PATH)


def machine_props(template: Json) -> Json:
    return template["Resources"][STATE_MACHINE]["Properties"]


def scopes(definition: Json, path: str = "") -> Iterator[tuple[str, Scope]]:
    """Every States map with its name prefix: the top level (""), each Parallel branch, each Map processor."""
    yield from ((where, machine["States"]) for where, machine in machines(definition, path))


def machines(definition: Json, path: str = "") -> Iterator[tuple[str, Json]]:
    """The definition and every nested one (Parallel branches, Map processors), each with StartAt."""
    yield path, definition
    for name, state in definition["States"].items():
        for i, branch in enumerate(state.get("Branches", [])):
            yield from machines(branch, f"{path}{name}[{i}]/")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from machines(processor, f"{path}{name}/")


def tasks(definition: Json) -> Iterator[tuple[str, Json]]:
    for where, states in scopes(definition):
        for name, state in states.items():
            if state["Type"] == "Task":
                yield f"{where}{name}", state


def retry_problems(definition: Json) -> list[str]:
    problems = []
    for name, task in tasks(definition):
        retriers = task.get("Retry", [])
        for error in RETRIED_ERRORS:
            if not any(error in r["ErrorEquals"] for r in retriers):
                problems.append(f"{name}: no Retry for {error}")
        for r in retriers:
            if not 1 <= r.get("MaxAttempts", 3) <= MAX_ATTEMPTS:
                problems.append(f"{name}: MaxAttempts {r.get('MaxAttempts', 3)} not in 1..{MAX_ATTEMPTS}")
            if r.get("BackoffRate", 2.0) <= 1:
                problems.append(f"{name}: BackoffRate must exceed 1")
            if r.get("JitterStrategy") != "FULL":
                problems.append(f"{name}: JitterStrategy must be FULL")
            if "MaxDelaySeconds" not in r:
                problems.append(f"{name}: MaxDelaySeconds missing")
    return problems


def catches_all_to(state: Json, target: str) -> bool:
    return any("States.ALL" in c["ErrorEquals"] and c["Next"] == target for c in state.get("Catch", []))


def catch_problems(definition: Json) -> list[str]:
    """Top-level Tasks and Parallels catch to RecordFailure; RecordFailure catches to a Fail state."""
    top = definition["States"]
    problems = []
    for name, state in top.items():
        if name == "RecordFailure":
            fails = [c["Next"] for c in state.get("Catch", []) if "States.ALL" in c["ErrorEquals"]]
            if not fails or any(top.get(n, {}).get("Type") != "Fail" for n in fails):
                problems.append("RecordFailure: must catch States.ALL to a Fail state")
        elif state["Type"] in ("Task", "Parallel", "Map") and not catches_all_to(state, "RecordFailure"):
            problems.append(f"{name}: no Catch of States.ALL to RecordFailure")
    return problems


def transition_problems(definition: Json) -> list[str]:
    """Every StartAt/Next/Default/Catch target exists in its scope and every state is some target."""
    problems = []
    for where, machine in machines(definition):
        states, start = machine["States"], machine["StartAt"]
        if start not in states:
            problems.append(f"{where}StartAt {start!r} does not exist")
        targets = {start}
        for name, state in states.items():
            nexts = [state.get("Next"), state.get("Default")]
            nexts += [c.get("Next") for c in state.get("Choices", []) + state.get("Catch", [])]
            for target in filter(None, nexts):
                targets.add(target)
                if target not in states:
                    problems.append(f"{where}{name}: Next {target!r} does not exist")
        problems += [f"{where}{n}: unreachable" for n in sorted(set(states) - targets)]
    return problems


def payload_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key.removesuffix(".$")
            yield from payload_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from payload_keys(inner)


def text_passing_problems(definition: Json) -> list[str]:
    problems = []
    for where, states in scopes(definition):
        for name, state in states.items():
            for field in PAYLOAD_FIELDS:
                bad = PHI_KEYS.intersection(k.lower() for k in payload_keys(state.get(field)))
                if bad:
                    problems.append(f"{where}{name}.{field}: passes {sorted(bad)}")
    return problems


def jsonata_problems(definition: Json) -> list[str]:
    langs = [("(definition)", definition.get("QueryLanguage"))]
    langs += [
        (f"{w}{n}", s.get("QueryLanguage")) for w, states in scopes(definition) for n, s in states.items()
    ]
    return [f"{where}: QueryLanguage {lang}" for where, lang in langs if lang not in (None, "JSONPath")]


# ------------------------------------------------------------------ the real files


def test_every_placeholder_has_a_substitution_and_every_substitution_is_used(
    template: Json,
) -> None:
    # GIVEN the ASL text and the state machine's DefinitionSubstitutions
    placeholders = set(PLACEHOLDER.findall(ASL_PATH.read_text(encoding="utf-8")))
    substitutions = set(machine_props(template)["DefinitionSubstitutions"])
    # THEN they name exactly the same keys
    assert placeholders, "the ASL has no ${...} placeholders"
    assert placeholders - substitutions == set(), "placeholders without a substitution"
    assert substitutions - placeholders == set(), "substitutions the ASL never uses"


def test_every_substitution_is_the_arn_of_a_serverless_function(template: Json) -> None:
    resources = template["Resources"]
    for key, value in machine_props(template)["DefinitionSubstitutions"].items():
        assert isinstance(value, dict) and set(value) == {"Fn::GetAtt"}, f"{key}: not a !GetAtt"
        logical_id, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn", key
        assert resources[logical_id]["Type"] == "AWS::Serverless::Function", key


def test_the_state_machine_loads_the_asl_file_and_invokes_only_its_functions(
    template: Json,
) -> None:
    props = machine_props(template)
    assert (ROOT / props["DefinitionUri"]).resolve() == ASL_PATH
    invoked = {
        p["LambdaInvokePolicy"]["FunctionName"]["Ref"] for p in props["Policies"] if "LambdaInvokePolicy" in p
    }
    used = {v["Fn::GetAtt"][0] for v in props["DefinitionSubstitutions"].values()}
    assert invoked == used


def test_every_task_retries_throttling_and_transient_errors_with_bounded_jittered_backoff(
    asl: Json,
) -> None:
    assert len(list(tasks(asl))) >= 9
    assert retry_problems(asl) == []


def test_every_failure_path_ends_in_record_failure_then_fail(asl: Json) -> None:
    assert catch_problems(asl) == []


def test_tasks_inside_parallel_branches_are_covered_by_the_parallels_catch(asl: Json) -> None:
    parallels = {n: s for n, s in asl["States"].items() if s["Type"] == "Parallel"}
    assert parallels, "expected the Analyze Parallel"
    for name, state in parallels.items():
        assert catches_all_to(state, "RecordFailure"), name
        for branch in state["Branches"]:
            assert all(not catches_all_to(s, "RecordFailure") for s in branch["States"].values())


def test_all_transitions_exist_and_every_state_is_reachable(asl: Json) -> None:
    assert transition_problems(asl) == []


def test_no_jsonata_anywhere(asl: Json) -> None:
    assert jsonata_problems(asl) == []


def test_no_state_passes_document_text(asl: Json) -> None:
    assert text_passing_problems(asl) == []


def test_every_lambda_timeout_fits_inside_its_task_timeout(asl: Json, template: Json) -> None:
    # GIVEN each Task's TimeoutSeconds and the Lambda it invokes
    default = template["Globals"]["Function"]["Timeout"]
    for name, task in tasks(asl):
        logical_id = PLACEHOLDER.fullmatch(task["Resource"]).group(1).removesuffix("Arn")  # type: ignore[union-attr]
        timeout = template["Resources"][logical_id]["Properties"].get("Timeout", default)
        # THEN the function gives up no later than the state machine does
        assert timeout <= task["TimeoutSeconds"], name


def test_every_handler_in_the_template_exists_as_a_function_in_its_module(template: Json) -> None:
    handlers = function_handlers(template)
    assert len(handlers) == 12  # 10 pipeline stages + the query API and Q&A functions
    for logical_id, (code_uri, handler) in handlers.items():
        module, _, attr = handler.rpartition(".")
        path = ROOT / code_uri / (module.replace(".", "/") + ".py")
        assert path.is_file(), f"{logical_id}: {path} missing"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        # or bound at module level: `lambda_handler = stage_handler(run_extract_text)`
        defined |= {
            t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
        }
        # or imported from the shared package: `from healthchat.api.app import lambda_handler`
        defined |= {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names}
        assert attr in defined, f"{logical_id}: {attr} not defined in {path}"


def test_every_function_has_an_encrypted_log_group_with_retention(template: Json) -> None:
    groups = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
    named = {g["LogGroupName"]["Fn::Sub"] for g in groups if "Fn::Sub" in g["LogGroupName"]}
    for logical_id in function_handlers(template):
        assert f"/aws/lambda/${{{logical_id}}}" in named, logical_id
    assert all("RetentionInDays" in g and "KmsKeyId" in g for g in groups)


def test_uploads_under_the_prefix_start_the_pipeline_without_logging_payloads(
    template: Json,
) -> None:
    props = machine_props(template)
    pattern = props["Events"]["UploadCreated"]["Properties"]["Pattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": "UploadBucket"}]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "uploads/"}]
    assert props["Logging"]["IncludeExecutionData"] is False
    bucket = template["Resources"]["UploadBucket"]["Properties"]
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True


def test_asl_validator_accepts_the_definition() -> None:
    binary = ROOT / "node_modules" / ".bin" / "asl-validator"
    if not binary.exists() or shutil.which("npx") is None:
        pytest.skip("asl-validator not installed: run scripts/setup_tools.sh")
    result = subprocess.run(
        ["npx", "--no-install", "asl-validator", "--json-path", str(ASL_PATH)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------ the checks catch breakage


def test_a_task_without_jittered_throttling_retry_is_reported(asl: Json) -> None:
    # GIVEN a branch Task whose throttling retrier is gone and a top Task retried 10 times
    bad = copy.deepcopy(asl)
    summarize = bad["States"]["Analyze"]["Branches"][0]["States"]["Summarize"]
    summarize["Retry"] = summarize["Retry"][1:]
    bad["States"]["ExtractText"]["Retry"][0].update(MaxAttempts=10, JitterStrategy="NONE")
    # THEN each problem is named
    assert retry_problems(bad) == [
        "ExtractText: MaxAttempts 10 not in 1..6",
        "ExtractText: JitterStrategy must be FULL",
        "Analyze[0]/Summarize: no Retry for ThrottlingError",
    ]


def test_missing_catches_dangling_nexts_jsonata_and_text_are_reported(asl: Json) -> None:
    bad = copy.deepcopy(asl)
    del bad["States"]["PublishResult"]["Catch"]
    bad["States"]["RecordFailure"]["Catch"][0]["Next"] = "Done"
    bad["States"]["ExtractMedical"]["Next"] = "Nowhere"
    bad["States"]["Analyze"]["Branches"][1]["StartAt"] = "SuggestTips"
    bad["States"]["ExtractMedical"]["QueryLanguage"] = "JSONata"
    bad["States"]["ExtractText"]["Parameters"]["Text.$"] = "$.text"
    assert catch_problems(bad) == [
        "PublishResult: no Catch of States.ALL to RecordFailure",
        "RecordFailure: must catch States.ALL to a Fail state",
    ]
    assert transition_problems(bad) == [
        "ExtractMedical: Next 'Nowhere' does not exist",
        "Analyze: unreachable",
        "Analyze[1]/InterpretLabs: unreachable",
    ]
    assert jsonata_problems(bad) == ["ExtractMedical: QueryLanguage JSONata"]
    assert text_passing_problems(bad) == ["ExtractText.Parameters: passes ['text']"]
