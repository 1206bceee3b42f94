# Sourced by tests/stun/run.sh: bench/stun.sh, cut to one 1-second round,
# must exit 0 when it measured everything (make bench counts a non-zero
# exit as a failed benchmark).
ROUNDS=1 SECS=1 sh bench/stun.sh "$BUILD" > "$T"/bench 2>&1
rc=$?
check "bench/stun.sh exits 0 after measuring everything (exit $rc)" "$T"/bench \
	sh -c "[ $rc = 0 ] && grep -q '^bench: stun_codec_ns ours=[0-9]' $T/bench"
