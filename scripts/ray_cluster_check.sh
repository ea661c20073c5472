#!/usr/bin/env bash
# A sweep on an existing two-node Ray cluster gives the same table as the process pool.
#
#   bash scripts/ray_cluster_check.sh        (or: make ray-check)
#
# Starts a two-node local Ray cluster (a head and a worker node, one CPU each, in their own
# temporary folder), runs a tiny suite on it with `rlbench3 run --backend ray --ray-address`,
# runs the same suite on the process pool into another folder, and compares the two
# `rlbench3 table --kind swiss` outputs; the cluster is stopped on every exit (trap). It stops
# only the processes it started (never `ray stop`, which would end every Ray on the machine).
# Needs the venv with the ray extra (make venv); VENV=... to use another one.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PY=$VENV/bin/python
RAY=$VENV/bin/ray
RLBENCH3=$VENV/bin/rlbench3
for tool in "$PY" "$RAY" "$RLBENCH3"; do
    if [[ ! -x $tool ]]; then
        echo "ray-check: $tool not found: make venv first (it installs the ray extra)" >&2
        exit 2
    fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rlbench3-ray-check.XXXXXX")
# Token authentication (Ray >= 2.52), with a token of this check's own, passed to every node and
# driver through the environment (not ~/.ray/auth_token, which other clusters may use).
export RAY_AUTH_MODE=token
RAY_AUTH_TOKEN=$("$PY" -c 'import secrets; print(secrets.token_hex(32))')
export RAY_AUTH_TOKEN
PORT=${RAY_CHECK_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
ADDRESS=127.0.0.1:$PORT
PIDS=()

stop_cluster() {
    local status=$?
    trap - EXIT INT TERM
    # `ray start --block` ends the processes it started when it gets SIGTERM; whatever is left
    # of their process groups after a grace period is killed.
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 1 100); do
        local alive=0
        for pid in "${PIDS[@]}"; do
            if kill -0 "$pid" 2>/dev/null; then alive=1; fi
        done
        [[ $alive == 0 ]] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [[ $status != 0 ]]; then
        echo "ray-check: FAILED (status $status); logs kept in $WORK" >&2
        tail -n 20 "$WORK"/*.log >&2 2>/dev/null || true
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap stop_cluster EXIT INT TERM

# Each node in its own session (setsid), so the trap can end its whole process group.
setsid "$RAY" start --head --block --port "$PORT" --num-cpus 1 --node-ip-address 127.0.0.1 \
    --include-dashboard false --disable-usage-stats --temp-dir "$WORK/ray" \
    >"$WORK/head.log" 2>&1 &
PIDS+=($!)
"$PY" - "$ADDRESS" <<'EOF'
import socket, sys, time
host, port = sys.argv[1].split(":")
deadline = time.monotonic() + 120
while True:
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("ray-check: the head node did not start")
        time.sleep(0.5)
EOF
setsid "$RAY" start --address "$ADDRESS" --block --num-cpus 1 --disable-usage-stats \
    >"$WORK/worker.log" 2>&1 &
PIDS+=($!)
"$PY" - "$ADDRESS" <<'EOF'
import sys, time
import ray
ray.init(address=sys.argv[1], log_to_driver=False, logging_level="ERROR")
deadline = time.monotonic() + 120
while sum(node["Alive"] for node in ray.nodes()) < 2:
    if time.monotonic() > deadline:
        sys.exit("ray-check: the worker node did not join")
    time.sleep(0.5)
print(f"ray-check: two nodes up at {sys.argv[1]}, {int(ray.cluster_resources()['CPU'])} CPUs")
ray.shutdown()
EOF

cat >"$WORK/tiny.yaml" <<'EOF'
description: the Ray cluster check (scripts/ray_cluster_check.sh)
seeds: 2
budget: 256
eval: {every: 128, episodes: 4}
agents: [random_search]
experiments:
  - name: lock
    env: rlbench3/CombinationLock-v0
    grid: {horizon: [1, 2]}
EOF

cd "$WORK"  # Ray workers import from the driver's folder: this one holds only our files
"$RLBENCH3" run "$WORK/tiny.yaml" -r "$WORK/on-ray" --backend ray --ray-address "$ADDRESS" \
    --no-progress >"$WORK/run-ray.log" 2>&1
"$RLBENCH3" run "$WORK/tiny.yaml" -r "$WORK/on-pool" --backend process --workers 2 \
    --no-progress >"$WORK/run-pool.log" 2>&1
grep -q "4 runs planned, 0 already finished, 4 run now, 0 failed" "$WORK/run-ray.log"
"$RLBENCH3" table -r "$WORK/on-ray" --kind swiss >"$WORK/table-ray.md"
"$RLBENCH3" table -r "$WORK/on-pool" --kind swiss >"$WORK/table-pool.md"
diff -u "$WORK/table-pool.md" "$WORK/table-ray.md"
# The same records (up to wall-clock fields) and byte-identical policies.
"$PY" - "$WORK/on-pool" "$WORK/on-ray" <<'EOF'
import sys
from pathlib import Path
pool, ray = (Path(p) for p in sys.argv[1:])
names = sorted(p.name for p in (pool / "policies").iterdir())
assert names and names == sorted(p.name for p in (ray / "policies").iterdir()), names
for name in names:
    assert (pool / "policies" / name).read_bytes() == (ray / "policies" / name).read_bytes(), name
print(f"ray-check: {len(names)} policies byte-identical")
EOF
echo "ray-check: OK (the cluster's swiss table equals the process pool's)"
