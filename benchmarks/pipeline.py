"""Pipeline speed on the embedded runtime: per-stage timings of the sample documents, the wall time of a
whole ``healthchat process`` run, and the cold import time of every Lambda handler module.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/pipeline.py``); prints a Markdown report and,
with ``--write``, replaces the section between the markers in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report_block import write_block

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = [
    "register_document",
    "extract_text",
    "extract_medical",
    "summarize",
    "simplify",
    "interpret_labs",
    "suggest_tips",
    "publish_result",
    "record_failure",
    "reprocess",
    "query_api",
    "ask_question",
]
STAGES = ["extract_text", "extract_medical", "summarize", "simplify", "interpret_labs", "suggest_tips"]


def cold_import_ms(module: str, runs: int, lambda_like: bool = False) -> float:
    """Median wall time of ``import module`` in a fresh interpreter, minus the bare interpreter start.

    ``lambda_like`` sets the variables Lambda sets, so the real X-Ray Tracer is built (as in the cloud).
    """
    env = dict(os.environ)
    if lambda_like:
        env.update(AWS_LAMBDA_FUNCTION_NAME="bench", AWS_REGION="us-east-1", HEALTHCHAT_RUNTIME="aws")

    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT / "functions", check=True, env=env)
        return time.perf_counter() - start

    base = statistics.median(once("pass") for _ in range(runs))
    return (statistics.median(once(f"import {module}") for _ in range(runs)) - base) * 1000


def process_samples(workdir: Path) -> tuple[float, list[dict[str, object]]]:
    samples = workdir / "samples"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_samples.py"), str(samples)],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "HEALTHCHAT_HOME": str(workdir / "home")}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "healthchat.cli", "process", str(samples), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return wall, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def report(runs: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        wall, results = process_samples(Path(tmp))
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on this machine (2 cores), Python "
        f"{sys.version.split()[0]}, local engines, tesseract with OMP_THREAD_LIMIT=1.",
        "",
        "| document | pages | method | " + " | ".join(STAGES) + " |",
        "|---|---|---|" + "---|" * len(STAGES),
    ]
    for r in sorted(results, key=lambda r: str(r["source"]["filename"])):  # type: ignore[index]
        t = r["timings_ms"]
        lines.append(
            f"| {r['source']['filename']} | {r['source']['pages']} | {r['text']['method']} | "  # type: ignore[index]
            + " | ".join(f"{t.get(s, 0):.0f} ms" for s in STAGES)
            + " |"
        )  # type: ignore[union-attr]
    lines += [
        "",
        f"Whole `healthchat process` run over the {len(results)} samples (one process: start-up, "
        f"runtime, 2 documents at a time): **{wall:.2f} s**.",
        "",
        f"| handler module | cold import, local (median of {runs}) | in Lambda, with the X-Ray SDK |",
        "|---|---|---|",
    ]
    for handler in HANDLERS:
        local = cold_import_ms(f"{handler}.app", runs)
        cloud = cold_import_ms(f"{handler}.app", runs, lambda_like=True)
        lines.append(f"| `{handler}.app` | {local:.0f} ms | {cloud:.0f} ms |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = parser.parse_args()
    text = report(args.runs)
    print(text)
    if args.write:
        write_block("pipeline-bench", "Pipeline", text)


if __name__ == "__main__":
    main()
