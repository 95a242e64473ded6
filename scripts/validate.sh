#!/usr/bin/env bash
# Validates the cloud side: the SAM template (sam validate --lint, cfn-lint + serverless rules,
# checkov), the state machine definition (asl-validator) and that `sam build` succeeds.
# Runs every step, prints a timing table and the size of each built function, and exits 1 if
# any step failed. Tools come from scripts/setup_tools.sh (run first; it is a no-op when done).
# Usage: scripts/validate.sh            (no AWS credentials and no Docker needed)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
export SAM_CLI_TELEMETRY=0
REGION="us-east-1"
ASL="statemachines/document_pipeline.asl.json"

bash scripts/setup_tools.sh || { echo "validate: tool setup failed" >&2; exit 1; }
PY312_BIN="$(cat .tools/python312.bin)"

declare -a NAMES=() SECONDS_TAKEN=() RESULTS=()
failed=0

# step NAME CMD...: runs CMD, records its wall time and whether it passed.
step() {
    local name="$1" start end rc
    shift
    printf '\n=== %s\n' "$name"
    start="$(date +%s.%N)"
    "$@"
    rc=$?
    end="$(date +%s.%N)"
    NAMES+=("$name")
    SECONDS_TAKEN+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')")
    if [[ $rc -eq 0 ]]; then RESULTS+=("ok"); else RESULTS+=("FAILED ($rc)"); failed=1; fi
}

# shellcheck disable=SC2329  # invoked through step
sam_build() {
    # Runtime python3.12: sam build resolves the arm64 wheels with a 3.12 interpreter from PATH.
    PATH="$PY312_BIN:$PATH" .tools/sam/bin/sam build --parallel --cached
}

step "sam validate --lint" .tools/sam/bin/sam validate --lint --region "$REGION"
step "cfn-lint + serverless rules" .tools/lint/bin/cfn-lint template.yaml -a cfn_lint_serverless.rules
step "checkov" .tools/lint/bin/checkov -f template.yaml --framework cloudformation --skip-download --quiet --compact
step "asl-validator" npx --no-install asl-validator --json-path "$ASL"
step "sam build" sam_build

printf '\n=== built function sizes (unzipped)\n'
du -sh .aws-sam/build/*Function .aws-sam/build/*Layer 2>/dev/null || echo "(no build output)"

printf '\n=== summary\n'
for i in "${!NAMES[@]}"; do
    printf '%-30s %7ss  %s\n' "${NAMES[$i]}" "${SECONDS_TAKEN[$i]}" "${RESULTS[$i]}"
done
exit "$failed"
