#!/usr/bin/env bash
# Installs the cloud-side tooling (SAM CLI, cfn-lint + serverless rules, checkov, asl-validator),
# each in its own isolated place, so none of them shares a dependency tree with the project venv
# (checkov and sam pin boto3/cfn-lint ranges that fight each other and the app).
#
#   .tools/sam     aws-sam-cli                      (python3.11 venv)
#   .tools/lint    cfn-lint + cfn-lint-serverless + checkov   (python3.11 venv)
#   node_modules/  asl-validator from package.json / package-lock.json
#   .tools/python312.bin   the bin dir of a Python 3.12 for `sam build` (runtime python3.12)
#   /usr/bin/chromium      Debian's Chromium for the web app's browser tests (apt-get, as root only)
#
# Idempotent: every step writes a stamp keyed on its pins and is skipped when the stamp matches.
# Works as root on a fresh machine that reaches only PyPI, npm and the Debian mirror.
# Usage: scripts/setup_tools.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"

SAM_PINS=("aws-sam-cli==1.170.0")
LINT_PINS=("cfn-lint==1.58.0" "cfn-lint-serverless==0.3.6" "checkov==3.3.30")
PYTHON="${HEALTHCHAT_TOOLS_PYTHON:-python3}"

log() { printf '[setup_tools] %s\n' "$*" >&2; }

# Drops only pip's notes about local find-links/index folders that do not hold a package
# (machine-wide pip config); every other warning and error still shows.
quiet_pip() { grep -v "^WARNING: Location 'file:" || true; }

# make_venv DIR PIN... : a venv at DIR with exactly these pins, skipped when its stamp matches.
make_venv() {
    local dir="$1"
    shift
    local stamp="$dir/.stamp"
    local want
    want="$(printf '%s\n' "$@")"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$dir/bin/python" ]]; then
        log "$(basename "$dir"): up to date ($*)"
        return 0
    fi
    log "$(basename "$dir"): installing $*"
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip 2> >(quiet_pip >&2)
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2> >(quiet_pip >&2)
    printf '%s' "$want" >"$stamp"
}

# find_python312: prints the bin dir of a working Python 3.12 (python3.12 on PATH, else pyenv's).
find_python312() {
    local candidate dir
    if command -v python3.12 >/dev/null 2>&1; then
        # A pyenv shim exists on PATH even when 3.12 is not selected; ask the interpreter itself.
        candidate="$(python3.12 -c 'import os, sys; print(os.path.dirname(sys.executable))' 2>/dev/null || true)"
        if [[ -n "$candidate" && -x "$candidate/python3.12" ]]; then
            printf '%s\n' "$candidate"
            return 0
        fi
    fi
    if command -v pyenv >/dev/null 2>&1; then
        for dir in "$(pyenv root)"/versions/3.12*/bin; do
            if [[ -x "$dir/python3.12" ]]; then
                printf '%s\n' "$dir"
                return 0
            fi
        done
    fi
    return 1
}

install_asl_validator() {
    local stamp="$ROOT/node_modules/.healthchat-stamp" want
    command -v npm >/dev/null 2>&1 || { log "ERROR: npm not found (install nodejs + npm)"; exit 1; }
    want="none"
    if [[ -f "$ROOT/package-lock.json" ]]; then
        want="$(cat "$ROOT/package.json" "$ROOT/package-lock.json" | sha256sum | cut -c1-64)"
    fi
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        log "node_modules: up to date"
        return 0
    fi
    if [[ -f "$ROOT/package-lock.json" ]]; then
        log "node_modules: npm ci"
        (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    else
        log "node_modules: npm install (writes package-lock.json: commit it)"
        (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error)
    fi
    want="$(cat "$ROOT/package.json" "$ROOT/package-lock.json" | sha256sum | cut -c1-64)"
    printf '%s' "$want" >"$stamp"
}

# install_chromium: Debian's chromium at /usr/bin/chromium for tests/e2e/test_web.py (Playwright drives it;
# `playwright install` is never used). Installed only when missing and we are root (CI); otherwise a note.
install_chromium() {
    if [[ -x /usr/bin/chromium ]]; then
        log "chromium: present"
        return 0
    fi
    if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        log "NOTE: /usr/bin/chromium is missing; the browser tests skip (CI fails them). As root: apt-get install chromium"
        return 0
    fi
    log "chromium: installing with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
    [[ -x /usr/bin/chromium ]] || { log "ERROR: apt-get did not install /usr/bin/chromium"; exit 1; }
}

main() {
    mkdir -p "$TOOLS"
    "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 9), sys.version' ||
        { log "ERROR: $PYTHON must be Python >= 3.9"; exit 1; }
    make_venv "$TOOLS/sam" "${SAM_PINS[@]}"
    make_venv "$TOOLS/lint" "${LINT_PINS[@]}"
    install_asl_validator
    install_chromium
    local py312
    if ! py312="$(find_python312)"; then
        log "ERROR: no Python 3.12 found (sam build needs it for Runtime python3.12)."
        log "       Put python3.12 on PATH, or install one with: pyenv install 3.12"
        exit 1
    fi
    printf '%s\n' "$py312" >"$TOOLS/python312.bin"
    log "python3.12 for sam build: $py312"
}

main "$@"
