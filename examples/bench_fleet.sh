#!/bin/sh
# The fleet benchmark: ORGS Scalekit organizations x 3 domains x 5 members (default 100,000),
# in both layouts users write (one file per organization, and one file holding all), through
# the release CLI: `validate`, the first `plan` of the fleet against an empty account (every
# organization, domain and member a create; human output to a file), and `plan` of the
# converged fleet against a sandbox seeded with it. Each line gives wall time and peak RSS
# (GNU time), and the plans the requests the sandbox answered. Targets (BENCHMARKS.md):
# validate <= 2 s and <= 500 MB, plan <= 1 GB, the first plan <= 30 s.
#
#   sh examples/bench_fleet.sh [ORGS] [WORKDIR] [ROUNDS]
set -eu
orgs=${1:-100000}
work=${2:-/tmp/orgform-fleet-$orgs}
rounds=${3:-3}
bin=$PWD/target/release/orgform

cargo build --release --quiet --example bench_plan
[ -f "$bin" ] || cargo build --release --quiet
if [ ! -f "$work/seed.yaml" ]; then
    mkdir -p "$work"
    BENCH_WRITE_TO=$work target/release/examples/bench_plan "$orgs"
fi

measure() { # LABEL COMMAND...: wall seconds and peak RSS of COMMAND, its output to $work/out
    label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || true
    wall=$(tail -n 1 "$work/time" | cut -d ' ' -f 1)
    rss=$(tail -n 1 "$work/time" | cut -d ' ' -f 2)
    printf '%-44s %6.2f s %6d MB\n' "$label" "$wall" $((rss / 1024))
}

stats() { # the sandbox's request count
    curl -s "$1/_sandbox/stats" | sed -n 's/.*"total":\([0-9]*\).*/\1/p'
}

echo "== validate ($orgs organizations x 3 domains x 5 members)"
for round in $(seq "$rounds"); do
    for layout in ws ws-one; do
        measure "validate $layout (round $round)" "$bin" validate "$work/$layout"
    done
done

serve() { # PORT DB [SEED]: a sandbox in the background; its pid in $served
    rm -f "$2"
    if [ $# -eq 3 ]; then
        "$bin" sandbox serve --addr "127.0.0.1:$1" --db "$2" --seed "$3" >/dev/null 2>&1 &
    else
        "$bin" sandbox serve --addr "127.0.0.1:$1" --db "$2" >/dev/null 2>&1 &
    fi
    served=$!
    until curl -sf "http://127.0.0.1:$1/_sandbox/health" >/dev/null; do sleep 0.5; done
}

echo "== first plan: an empty account ($((orgs * 9)) creates), human output to a file"
serve 8797 "$work/empty.db"
for round in $(seq "$rounds"); do
    for layout in ws ws-one; do
        before=$(stats http://127.0.0.1:8797)
        BENCH_SANDBOX_URL=http://127.0.0.1:8797 measure "plan $layout, empty account (round $round)" \
            "$bin" plan "$work/$layout" -q --no-color
        cp "$work/out" "$work/plan-first-$layout.txt"
        echo "    $(tail -n 1 "$work/out")  requests: $(($(stats http://127.0.0.1:8797) - before))"
    done
done
kill "$served"

echo "== plan of the converged fleet"
serve 8798 "$work/full.db" "$work/seed.yaml"
for round in $(seq "$rounds"); do
    for layout in ws ws-one; do
        before=$(stats http://127.0.0.1:8798)
        BENCH_SANDBOX_URL=http://127.0.0.1:8798 measure "plan $layout, converged (round $round)" \
            "$bin" plan "$work/$layout" -q --no-color
        echo "    $(tail -n 1 "$work/out")  requests: $(($(stats http://127.0.0.1:8798) - before))"
    done
done
kill "$served"
