#!/usr/bin/env bash
# PHPUnit inside a WordPress running the real WPCloudDeploy 5.8.0 and Meta Box 5.9.7 (with our
# plugin, without the host stand-in). The two archives are test fixtures kept outside this
# repository: ../shared/fixtures/wpcd/ from the project root, or SS_WPCD_FIXTURES. Where they
# are absent the suite is skipped, saying so. Otherwise as tests/php/run.sh (same arguments,
# SS_TEST_MYSQL_URL or a private MariaDB).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FIXTURES=${SS_WPCD_FIXTURES:-$ROOT/../shared/fixtures/wpcd}
for archive in wp-cloud-deploy-5.8.0.tar.gz meta-box-5.9.7.tar.gz; do
  if [ ! -f "$FIXTURES/$archive" ]; then
    echo "SKIPPED: the real-WPCloudDeploy suite needs $archive in $FIXTURES (../shared/fixtures/wpcd/ from the project root, or set SS_WPCD_FIXTURES)."
    exit 0
  fi
done
export SS_WPCD_FIXTURES=$(cd "$FIXTURES" && pwd)
export SS_PHPUNIT_SUITE=wpcd
exec "$ROOT/tests/php/run.sh" "$@"
