"""Load check of the local API: 50 concurrent clients polling ``healthchat serve`` (issue 5).

Starts the server in a child process on a temporary HEALTHCHAT_HOME, uploads a few generated sample
documents through the API (POST /documents + PUT upload_url) and waits until they are processed; then
``--clients`` threads, each with its own keep-alive ``httpx.Client``, alternate ``GET /documents/{id}``
(a random processed document) and ``GET /documents`` for ``--seconds``. Reports p50/p90/p99/max latency,
throughput and errors per route. The server runs in its own process so the clients do not share its GIL.

    .venv/bin/python benchmarks/api_load.py [--clients 50] [--seconds 20] [--documents 4] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

from report_block import write_block

ROOT = Path(__file__).resolve().parents[1]
ROUTES = ("GET /documents/{id}", "GET /documents")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HEALTHCHAT_HOME": str(home), "HF_HUB_OFFLINE": "1", "HEALTHCHAT_AUTH": "local"}
    env.pop("HEALTHCHAT_PUBLIC_URL", None)
    code = f"from healthchat.local.server import serve; serve('127.0.0.1', {port})"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not start")


def sample_documents() -> list[tuple[str, str, bytes]]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_samples import doctor_note, lab_report_pdf

    return [
        ("lab_report.pdf", "application/pdf", lab_report_pdf()),
        ("doctor_note.txt", "text/plain", doctor_note().encode()),
    ]


def upload_documents(base: str, count: int) -> list[str]:
    """Upload ``count`` sample documents through the API and wait until every one is processed."""
    samples = sample_documents()
    ids: list[str] = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for i in range(count):
            name, content_type, data = samples[i % len(samples)]
            created = client.post("/documents", json={"filename": name, "content_type": content_type})
            created.raise_for_status()
            body = created.json()
            put = client.put(body["upload_url"], content=data, headers=body["upload_headers"])
            put.raise_for_status()
            ids.append(body["document_id"])
        deadline = time.monotonic() + 300
        for document_id in ids:
            while client.get(f"/documents/{document_id}").json()["status"] == "PROCESSING":
                if time.monotonic() > deadline:
                    raise SystemExit("documents did not finish processing")
                time.sleep(0.25)
    return ids


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {r: [] for r in ROUTES})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROUTES, 0))
    lock: threading.Lock = field(default_factory=threading.Lock)


def client_loop(base: str, ids: list[str], stop_at: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    local: dict[str, list[float]] = {r: [] for r in ROUTES}
    errors = dict.fromkeys(ROUTES, 0)
    with httpx.Client(base_url=base, timeout=30) as client:
        n = 0
        while time.monotonic() < stop_at:
            route = ROUTES[n % 2]
            path = f"/documents/{rng.choice(ids)}" if n % 2 == 0 else "/documents?limit=20"
            n += 1
            start = time.perf_counter()
            try:
                ok = client.get(path).status_code == 200
            except httpx.HTTPError:
                ok = False
            elapsed = (time.perf_counter() - start) * 1000
            if ok:
                local[route].append(elapsed)
            else:
                errors[route] += 1
    with tally.lock:
        for route in ROUTES:
            tally.latencies[route].extend(local[route])
            tally.errors[route] += errors[route]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]
    )


def run_load(base: str, ids: list[str], clients: int, seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(target=client_loop, args=(base, ids, stop_at, tally, i), daemon=True)
        for i in range(clients)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.monotonic() - started


def report(tally: Tally, wall: float, clients: int, documents: int) -> str:
    rows = []
    all_ms: list[float] = []
    for route in ROUTES:
        ms = tally.latencies[route]
        all_ms.extend(ms)
        rows.append((route, ms, tally.errors[route]))
    rows.append(("all", all_ms, sum(tally.errors.values())))
    lines = [
        f"Measured {date.today().isoformat()} on this machine ({os.cpu_count()} cores), Python "
        f"{platform.python_version()}: `healthchat serve` (werkzeug, threaded) in its own process, "
        f"{documents} processed documents, {clients} client threads (httpx, keep-alive) alternating the two "
        f"routes for {wall:.1f} s. The server hands the API handler one event at a time (one Lambda "
        "execution environment); the clients share the machine's cores with it.",
        "",
        "| route | requests | throughput | p50 | p90 | p99 | max | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for route, ms, errors in rows:
        p50, p90, p99 = (percentile(ms, q) for q in (50, 90, 99))
        worst = max(ms, default=float("nan"))
        lines.append(
            f"| {route} | {len(ms)} | {len(ms) / wall:.0f} req/s | {p50:.1f} ms | {p90:.1f} ms "
            f"| {p99:.1f} ms | {worst:.1f} ms | {errors} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--documents", type=int, default=4)
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/README.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="healthchat-load-") as home:
        port = free_port()
        proc = start_server(Path(home), port)
        base = f"http://127.0.0.1:{port}"
        try:
            ids = upload_documents(base, args.documents)
            tally, wall = run_load(base, ids, args.clients, args.seconds)
        finally:
            proc.terminate()
            proc.wait(30)
    text = report(tally, wall, args.clients, args.documents)
    sys.stdout.write(text)
    if args.write:
        write_block("api-load", "API load check", text)
    return 0 if not sum(tally.errors.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
