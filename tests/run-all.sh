#!/usr/bin/env bash
# `npm test`: the type check and the linters (`npm run typecheck`, `npm run lint`), then every
# suite against real parts — the sidecar suite (vitest, real MariaDB, fake
# provider servers on 127.0.0.1), the PHP suite (PHPUnit inside a real WordPress), the same
# inside the real WPCloudDeploy (where its archives are at hand), the browser suite (Chromium driving wp-admin with the real sidecar) and the CI-sized
# reliability suite (several sidecar processes, kills, database restarts, provider faults). One private MariaDB serves
# them all unless SS_TEST_MYSQL_URL names another. Ends with one line: "Total: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="$PATH:/usr/sbin"
scripts/debian-packages.sh || exit 1
work="$root/.tmp/test-run"
rm -rf "$work"; mkdir -p "$work"

started_db=""
if [ -z "${SS_TEST_MYSQL_URL:-}" ]; then
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  SS_TEST_MYSQL_URL=$(scripts/mariadb.sh "$work/mariadb" "$port") || { echo "Could not start MariaDB"; exit 1; }
  started_db="$work/mariadb"
fi
export SS_TEST_MYSQL_URL
cleanup() { [ -z "$started_db" ] || scripts/mariadb.sh stop "$started_db"; }
trap cleanup EXIT

passed=0; failed=0; status=0
add_counts() { passed=$((passed + $1)); failed=$((failed + $2)); }

# Types and lint first: each counts as one check in the totals, and a failure fails the run
# (the suites still run, so one report shows everything).
checks=""
for check in typecheck lint; do
  echo "== npm run $check =="
  if npm run -s "$check"; then add_counts 1 0; checks="$checks $check ok,"
  else add_counts 0 1; status=1; checks="$checks $check FAILED,"; fi
done

echo "== Sidecar suite (vitest) =="
npx vitest run --reporter=default --reporter=json --outputFile="$work/vitest.json"
rc=$?; [ $rc -ne 0 ] && status=1
if [ -f "$work/vitest.json" ]; then
  read -r p f < <(node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites||0))' "$work/vitest.json")
  add_counts "$p" "$f"
else
  add_counts 0 1
fi

if [ -x tests/php/run.sh ]; then
  echo "== WordPress plugin suite (PHPUnit) =="
  tests/php/run.sh | tee "$work/phpunit.txt"
  rc=${PIPESTATUS[0]}; [ $rc -ne 0 ] && status=1
  read -r p f < <(node -e '
    const t=require("fs").readFileSync(process.argv[1],"utf8");
    let m=t.match(/OK \((\d+) tests?/); if(m){console.log(m[1],0);process.exit(0)}
    m=t.match(/Tests: (\d+), Assertions: \d+(?:, Errors: (\d+))?(?:, Failures: (\d+))?/);
    if(m){const bad=(+m[2]||0)+(+m[3]||0);console.log(m[1]-bad,bad||1);process.exit(0)}
    console.log(0,1)' "$work/phpunit.txt")
  add_counts "$p" "$f"
fi

if [ -x tests/php-wpcd/run.sh ]; then
  echo "== Inside the real WPCloudDeploy (PHPUnit; skipped without ../shared/fixtures/wpcd/ or SS_WPCD_FIXTURES) =="
  tests/php-wpcd/run.sh | tee "$work/phpunit-wpcd.txt"
  rc=${PIPESTATUS[0]}; [ $rc -ne 0 ] && status=1
  read -r p f < <(node -e '
    const t=require("fs").readFileSync(process.argv[1],"utf8");
    if(/^SKIPPED:/m.test(t)){console.log(0,0);process.exit(0)}
    let m=t.match(/OK \((\d+) tests?/); if(m){console.log(m[1],0);process.exit(0)}
    m=t.match(/Tests: (\d+), Assertions: \d+(?:, Errors: (\d+))?(?:, Failures: (\d+))?/);
    if(m){const bad=(+m[2]||0)+(+m[3]||0);console.log(m[1]-bad,bad||1);process.exit(0)}
    console.log(0,1)' "$work/phpunit-wpcd.txt")
  add_counts "$p" "$f"
fi

if [ -x tests/e2e/run.sh ]; then
  echo "== Browser suite (Chromium + WordPress + sidecar) =="
  tests/e2e/run.sh | tee "$work/e2e.txt"
  rc=${PIPESTATUS[0]}; [ $rc -ne 0 ] && status=1
  read -r p f < <(node -e '
    const t=require("fs").readFileSync(process.argv[1],"utf8");
    const m=[...t.matchAll(/Tests\s+(?:(\d+) failed \| )?(\d+) passed/g)].pop();
    if(m){console.log(+m[2], +(m[1]||0))}else{console.log(0,1)}' "$work/e2e.txt" 2>/dev/null || echo "0 1")
  add_counts "$p" "$f"
fi

echo "== Reliability suite, CI-sized (SS_RELIABILITY=full npm run test:reliability for the long run) =="
NO_COLOR=1 npx vitest run -c vitest.reliability.config.ts 2>&1 | tee "$work/reliability.txt"
rc=${PIPESTATUS[0]}; [ $rc -ne 0 ] && status=1
read -r p f < <(node -e '
  const t=require("fs").readFileSync(process.argv[1],"utf8").replace(/\x1b\[[0-9;]*m/g,"");
  const m=[...t.matchAll(/Tests\s+(?:(\d+) failed \| )?(\d+) passed/g)].pop();
  if(m){console.log(+m[2], +(m[1]||0))}else{console.log(0,1)}' "$work/reliability.txt" 2>/dev/null || echo "0 1")
add_counts "$p" "$f"

[ "$failed" -gt 0 ] && status=1
echo "Checks:${checks%,}"
echo "Total: $passed passed, $failed failed"
exit $status
