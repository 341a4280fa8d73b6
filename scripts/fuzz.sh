#!/usr/bin/env bash
# Fuzz one parser of outside input with libFuzzer (and AddressSanitizer):
#
#   scripts/fuzz.sh TARGET [SECONDS]        # TARGET: json-body http hostlist job-options batch-script configuration terminal-text
#   scripts/fuzz.sh all [SECONDS]           # each target in turn
#
# Starts from Tests/Corpus/TARGET (the regression corpus the test suite replays) and adds what
# it finds to a scratch corpus in .build-fuzz/corpus/TARGET. A crashing input is written to
# Tests/Corpus/TARGET/crash-* : fix the parser, keep the file (the suite replays it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
TARGETS="json-body http hostlist job-options batch-script configuration terminal-text"
target=${1:?usage: scripts/fuzz.sh TARGET|all [SECONDS]  (targets: $TARGETS)}
seconds=${2:-600}
swift build -c release --build-path .build-fuzz --product chess-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xcc -fsanitize=fuzzer-no-link \
    -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld 2>&1 | grep -v "Cannot export local symbol" | tail -n 3
[ "$target" = all ] && list=$TARGETS || list=$target
for t in $list; do
    mkdir -p ".build-fuzz/corpus/$t" "Tests/Corpus/$t"
    echo "== $t for ${seconds}s"
    CHESS_FUZZ_TARGET=$t .build-fuzz/release/chess-fuzz -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
        -artifact_prefix="Tests/Corpus/$t/" -print_final_stats=1 ".build-fuzz/corpus/$t" "Tests/Corpus/$t" 2>&1 \
        | grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|ERROR|SUMMARY|crash-|Done" || true
done
