#!/bin/sh
# bench/run.sh BUILD: every benchmark (`make bench`): the STUN server and
# codec (bench/stun.sh), probing (bench/probe.sh), `wghealth check` of a
# 10,000-peer device (bench/health.sh), and sync / dump / down
# against wg in the qemu guest (bench/sync.sh), wg-gatewayd against
# wg syncconf in the guest and its PostgreSQL COMMIT-to-device latency on
# the host (bench/gateway.sh). Each writes its own summary;
# the machine-readable "bench: ..." lines of all of them are repeated at the
# end. Not part of `make check`: the sync part alone runs for many minutes.
# Exit: 1 when a benchmark failed; a benchmark that cannot run here (77) is
# reported as skipped.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 1
out=$BUILD/bench
mkdir -p "$out"
: >"$out/all.txt"
rc=0
for b in stun probe health sync gateway; do
	echo "=== bench/$b.sh"
	brc=0
	sh "bench/$b.sh" "$BUILD" >"$out/$b.out" 2>&1 || brc=$?
	cat "$out/$b.out"
	grep '^bench: ' "$out/$b.out" >>"$out/all.txt"
	case $brc in
	0) ;;
	77) echo "bench/$b.sh: SKIPPED (cannot run here)" ;;
	*) echo "bench/$b.sh: FAILED ($brc)"; rc=1 ;;
	esac
done
echo "=== summary"
cat "$out/all.txt"
exit $rc
