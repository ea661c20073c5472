"""The Copernican test (T7) on rlbench3/Orbit-v0: print its Markdown table.

    python scripts/copernican.py                    # smoke scale: 575 CPU-seconds in all
    python scripts/copernican.py --scale full       # 10 seeds, 4x the data, a bigger MLP
    python scripts/copernican.py --scale tiny --k 1 10 --no-agents   # seconds: does it run?

Dynamics models fitted on the training regime of ``envs/orbit.yaml`` (a generic MLP, the
inverse-square law with fitted constants, the true simulator) predict the craft's state k steps
ahead in that regime and in each held-out one (binary star, eccentric orbits, masses outside the
range); the table gives each model's extrapolation / interpolation error ratio with a bootstrap
interval over seeds. Then the suite ``orbit`` is run into ``--results`` (resuming what is
there: a second call reuses the trained agents) and each agent's held-out gap is added to the
table. See :mod:`rlbench3.analysis.copernican`.

Smoke scale measured: 14 min 41 s wall on 2 cores shared with other jobs (load average 5-8),
575 CPU-seconds in all: the agents' 20 runs about 445 (10 SAC runs of 10k steps most of it, on
2 workers), the dynamics models about 130 (one process). A second call with the same
``--results`` reuses the agents and takes only the dynamics part.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rlbench3.analysis.copernican import (
    K_STEPS,
    SCALES,
    agent_gaps,
    run_agents,
    run_t7,
    t7_table,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="smoke", help="run size")
    parser.add_argument("--seed", type=int, default=0, help="first seed (seeds run from it up)")
    parser.add_argument(
        "--k", type=int, nargs="+", default=list(K_STEPS), help="prediction horizons in steps"
    )
    parser.add_argument(
        "-r",
        "--results",
        type=Path,
        default=Path("results/orbit"),
        help="results folder of the agents' runs (suite orbit; finished runs are reused)",
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes for the agents")
    parser.add_argument("--no-agents", action="store_true", help="the dynamics models only")
    parser.add_argument("-o", "--output", type=Path, help="also write the table to this file")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    agents = []
    if not args.no_agents:
        progress(f"agents: suite orbit into {args.results}")
        run_agents(args.results, workers=args.workers)
        agents = agent_gaps(args.results)
        progress("agents done")
    result = run_t7(args.scale, seed=args.seed, k_steps=args.k, progress=progress)
    table = t7_table(result, agents)
    elapsed = time.perf_counter() - start
    print(table)
    print(f"\n({args.scale} scale, {elapsed:.0f} s)")
    if args.output is not None:
        args.output.write_text(table + "\n")


if __name__ == "__main__":
    main()
