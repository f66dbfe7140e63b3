#!/usr/bin/env bash
# Check the locked dependencies against the PyPI advisory database.
# A machine that can't reach the service is told so plainly, and the build
# does not fail for it: "could not check" is not "no vulnerabilities".
set -u
cd "$(dirname "$0")/.."
requirements=$(mktemp)
trap 'rm -f "$requirements"' EXIT
.tools/bin/uv export --frozen --format requirements-txt --no-emit-project \
    --quiet > "$requirements" || exit 1
output=$(.venv/bin/pip-audit --require-hashes --disable-pip -r "$requirements" \
    --progress-spinner off 2>&1)
status=$?
if echo "$output" | grep -qE "^Found [0-9]+ known vulnerabilit"; then
    echo "$output"
    exit 1
fi
skipped=$(echo "$output" | grep -c "could not be audited")
if [ "$skipped" -gt 0 ]; then
    echo "pip-audit could NOT check $skipped of the locked dependencies: the"
    echo "vulnerability service did not answer for them from this machine."
    echo "Nothing was verified for those packages; run 'make audit' where PyPI's"
    echo "JSON API is reachable."
    exit 0
fi
if [ $status -eq 0 ]; then
    echo "$output"
    echo "pip-audit: no known vulnerabilities in the locked dependencies."
    exit 0
fi
if echo "$output" | grep -qiE "connection|resolve|timed out|network|HTTPSConnectionPool|Max retries"; then
    echo "pip-audit could NOT check the dependencies: the vulnerability service"
    echo "is unreachable from this machine. Nothing was verified."
    echo "$output" | tail -3
    exit 0
fi
echo "$output"
exit $status
