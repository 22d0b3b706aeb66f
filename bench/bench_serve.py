"""Load test of ``segml serve``: single-customer latency and throughput over loopback HTTP.

Bounded and local: the server is the real ``segml serve`` command in a subprocess bound to
127.0.0.1 (access log off, one worker); the clients are an ``httpx.AsyncClient`` in this
process sending a fixed number of ``POST /score`` requests (one customer's feature row
each, rows cycled) at 1, 8 and 32 concurrent clients. Beside it, in the same run, the
in-process ``segml.scoring.score_one`` time for the same rows, and ``GET /health`` at one
client (the HTTP floor: framework + loopback, no scoring).

Every HTTP answer is checked (status 200, the segment id equals ``score_one``'s).

Usage: ``python bench/bench_serve.py [--requests 2000] [--levels 1,8,32]
[--n-customers 800] [--out bench/results/serve.json]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]


def _model(folder: Path, n_customers: int) -> tuple[Path, list[dict[str, Any]], Any]:
    from segml.cluster import Segmenter
    from segml.datasets import make_portfolio
    from segml.features import build_features
    from segml.features.build import make_preprocessor
    from segml.persistence import SegmentModel, load_model, save_model

    p = make_portfolio(n_customers, random_state=0)
    fs = build_features(p.transactions, p.customers, p.as_of)
    seg = Segmenter(n_clusters=4, preprocessor=make_preprocessor(fs.spec, fs.frame),
                    random_state=0, n_init=1).fit(fs.frame)
    model = SegmentModel.from_training(seg, fs.frame, feature_set=fs, name="bench")
    path = save_model(model, root=folder)
    rows = json.loads(fs.frame.reset_index().to_json(orient="records", date_format="iso"))
    return path, rows, load_model(path)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def _in_process(model: Any, rows: list[dict[str, Any]], n: int) -> dict[str, float]:
    from segml.scoring import score_one

    for r in rows[:50]:
        score_one(model, r)  # warm
    lat = []
    t0 = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        score_one(model, rows[i % len(rows)])
        lat.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    return {"p50_ms": 1e3 * _pct(lat, 50), "p99_ms": 1e3 * _pct(lat, 99), "per_s": n / wall}


async def _level(url: str, rows: list[dict[str, Any]], expected: list[int], n: int,
                 clients: int, path: str = "/score") -> dict[str, float]:
    import httpx

    lat: list[float] = []
    nxt = 0
    bad: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as c:
        async def worker() -> None:
            nonlocal nxt
            while nxt < n:
                i = nxt
                nxt += 1
                t = time.perf_counter()
                if path == "/health":
                    r = await c.get(path)
                else:
                    r = await c.post(path, json={"features": rows[i % len(rows)]})
                lat.append(time.perf_counter() - t)
                if r.status_code != 200:
                    bad.append(f"{r.status_code}")
                elif path == "/score" and r.json()["segment_id"] != expected[i % len(rows)]:
                    bad.append("segment differs from score_one")

        for _ in range(min(20, n)):  # warm the connections and the server
            await (c.get("/health"))
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
    if bad:
        raise SystemExit(f"{len(bad)} bad answers at {clients} clients, e.g. {bad[:3]}")
    return {"p50_ms": 1e3 * _pct(lat, 50), "p99_ms": 1e3 * _pct(lat, 99), "per_s": n / wall}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(model_path: Path) -> tuple[subprocess.Popen[str], str]:
    import httpx

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SEGML_SERVE_TOKEN", None)
    cmd = [sys.executable, "-c", "import sys; from segml.cli import main; "
           "sys.exit(main(sys.argv[1:]))", "serve", str(model_path), "--host", "127.0.0.1",
           "--port", str(port), "--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"segml serve exited: {proc.communicate()[1][-2000:]}")
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            raise SystemExit("segml serve did not start in 120 s")
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000, help="requests per level")
    ap.add_argument("--levels", default="1,8,32", help="concurrent clients per level")
    ap.add_argument("--n-customers", type=int, default=800)
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    args = ap.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    if args.requests < 1 or args.requests > 100_000 or any(not 0 < c <= 256 for c in levels):
        raise SystemExit("bounded test: --requests in 1..100000, clients in 1..256")

    import fastapi
    import httpx
    import uvicorn

    from segml.scoring import score_one

    with tempfile.TemporaryDirectory() as tmp:
        model_path, rows, model = _model(Path(tmp), args.n_customers)
        expected = [score_one(model, r)["segment_id"] for r in rows]
        load0 = os.getloadavg()
        inproc = _in_process(model, rows, args.requests)
        proc, url = _start_server(model_path)
        try:
            health = asyncio.run(_level(url, rows, expected, args.requests, 1, "/health"))
            http = {c: asyncio.run(_level(url, rows, expected, args.requests, c))
                    for c in levels}
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
        load1 = os.getloadavg()
    res = {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "python": platform.python_version(),
        "versions": {"fastapi": fastapi.__version__, "uvicorn": uvicorn.__version__,
                     "httpx": httpx.__version__},
        "loadavg_before": [round(x, 2) for x in load0],
        "loadavg_after": [round(x, 2) for x in load1],
        "requests_per_level": args.requests,
        "score_one_in_process": inproc,
        "health_1_client": health,
        "score_http": {str(c): v for c, v in http.items()},
    }
    print(json.dumps(res, indent=2))
    print()
    print("| path | clients | p50 ms | p99 ms | requests/s |")
    print("|---|---:|---:|---:|---:|")
    i = inproc
    print(f"| score_one in process | 1 | {i['p50_ms']:.3f} | {i['p99_ms']:.3f} | "
          f"{i['per_s']:,.0f} |")
    h = health
    print(f"| GET /health (HTTP floor) | 1 | {h['p50_ms']:.2f} | {h['p99_ms']:.2f} | "
          f"{h['per_s']:,.0f} |")
    for c, v in http.items():
        print(f"| POST /score | {c} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | "
              f"{v['per_s']:,.0f} |")
    if args.out:
        args.out.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
