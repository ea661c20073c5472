"""The Copernican test (T7) on rlbench3/Orbit-v0: print its Markdown table.

    python scripts/copernican.py                    # smoke scale: about 2-3 minutes on 2 cores
    python scripts/copernican.py --scale full       # 10 seeds, 4x the data, a bigger MLP
    python scripts/copernican.py --scale tiny --k 1 10   # seconds: does it run?

Dynamics models fitted on the training regime of ``envs/orbit.yaml`` (a generic MLP, the
inverse-square law with fitted constants, the true simulator) predict the craft's state k steps
ahead in that regime and in each held-out one (binary star, eccentric orbits, masses outside the
range); the table gives each model's extrapolation / interpolation error ratio with a bootstrap
interval over seeds. See :mod:`rlbench3.analysis.copernican`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rlbench3.analysis.copernican import K_STEPS, SCALES, run_t7, t7_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="smoke", help="run size")
    parser.add_argument("--seed", type=int, default=0, help="first seed (seeds run from it up)")
    parser.add_argument(
        "--k", type=int, nargs="+", default=list(K_STEPS), help="prediction horizons in steps"
    )
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    result = run_t7(args.scale, seed=args.seed, k_steps=args.k, progress=progress)
    table = t7_table(result)
    elapsed = time.perf_counter() - start
    print(table)
    print(f"\n({args.scale} scale, {elapsed:.0f} s)")
    if args.out is not None:
        args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
