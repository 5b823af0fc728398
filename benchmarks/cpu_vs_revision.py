"""Client CPU per cancelled order: this checkout against an earlier revision, in one run.

    python benchmarks/cpu_vs_revision.py 54654fb [--rounds 7] [--trials 3]

Makes a git worktree of the revision, then alternates the two trees: each trial starts the
simulator of *this* checkout in its own process (so both clients meet the same server), places
20 × 500 orders, and measures ``time.process_time()`` of the client around
``await engine.cancel(targets)`` (rate limits off on both sides), per order; ``--rounds`` per
trial after one warm-up, median. A second figure runs the engine against an in-process
``MockTransport`` answering every batch at once: the engine alone, no sockets.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SOCKETS = r"""
import asyncio, gc, json, os, sys, time
import benchmarks.workloads.cpu as cpu
from benchmarks.workloads import sim_process
from bitget_cancel import CancelEngine, CancelTarget, Credentials

_exec = asyncio.create_subprocess_exec
async def same_sim(*args, **kwargs):  # the simulator of the checkout under test, for both trees
    args = (args[0], os.environ["SIM_SCRIPT"], *args[2:])
    kwargs["env"] = {**os.environ, "PYTHONPATH": os.environ["SIM_ROOT"]}
    return await _exec(*args, **kwargs)
cpu.asyncio.create_subprocess_exec = same_sim

async def main(rounds):
    sim = await cpu.SimProcess.start()
    creds = Credentials(api_key=sim_process.API_KEY, secret_key=sim_process.SECRET_KEY,
                        passphrase=sim_process.PASSPHRASE)
    engine = CancelEngine(creds, base_url=sim.base_url, rate_limit=cpu.UNLIMITED)
    out = []
    try:
        for i in range(rounds + 1):
            targets = [CancelTarget(symbol=s, order_id=o) for s, o in await sim.place(20, 500)]
            gc.collect()
            t0 = time.process_time()
            report = await engine.cancel(targets)
            if i:
                out.append((time.process_time() - t0) / len(report.cancelled) * 1e6)
    finally:
        await engine.close()
        await sim.stop()
    print(json.dumps(out))

asyncio.run(main(int(sys.argv[1])))
"""

MOCK = r"""
import asyncio, gc, json, sys, time
from bitget_cancel import CancelEngine, CancelTarget, Credentials
try:
    from bitget_cancel import HttpResponse, MockTransport
except ImportError:  # before they were public
    from bitget_cancel._transport import HttpResponse, MockTransport

async def answer(request):
    items = [{"orderId": o["orderId"]} for o in json.loads(request.body)["orderList"]]
    body = {"code": "00000", "msg": "success", "data": {"successList": items, "failureList": []}}
    return HttpResponse(200, json.dumps(body).encode())

async def main(rounds):
    creds = Credentials(api_key="k", secret_key="s", passphrase="p")
    engine = CancelEngine(creds, transport=MockTransport(answer), rate_limit=1e6)
    out = []
    for r in range(rounds + 1):
        targets = [CancelTarget(symbol=f"S{i % 20}USDT", order_id=str(10**12 + r * 10**5 + i))
                   for i in range(10_000)]
        gc.collect()
        t0 = time.process_time()
        await engine.cancel(targets)
        if r:
            out.append((time.process_time() - t0) / 10_000 * 1e6)
    await engine.close()
    print(json.dumps(out))

asyncio.run(main(int(sys.argv[1])))
"""


def measure(tree: Path, script: str, rounds: int) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "SIM_ROOT": str(ROOT),
        "SIM_SCRIPT": str(ROOT / "benchmarks" / "workloads" / "sim_process.py"),
    }
    done = subprocess.run(
        [sys.executable, "-c", script, str(rounds)],
        cwd=tree, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    samples: list[float] = json.loads(done.stdout.strip().splitlines()[-1])
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="the earlier revision (e.g. 54654fb)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old),
                        args.revision], check=True)  # fmt: skip
        try:
            rows = []
            for name, script in (("over sockets", SOCKETS), ("engine alone (mock)", MOCK)):
                then, now = [], []
                for _ in range(args.trials):  # alternated, so both see the same machine
                    then.append(measure(old, script, args.rounds))
                    now.append(measure(ROOT, script, args.rounds))
                rows.append((name, statistics.median(then), statistics.median(now)))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                           check=True)  # fmt: skip
    print(f"| µs CPU per order | {args.revision} | this checkout | ratio |")
    print("|---|---|---|---|")
    for name, then_us, now_us in rows:
        print(f"| {name} | {then_us:.2f} | {now_us:.2f} | {now_us / then_us:.3f} |")


if __name__ == "__main__":
    main()
