#!/usr/bin/env bash
# Unpacks WPCloudDeploy and Meta Box (SS_WPCD_FIXTURES) into a WordPress copy's plugins and
# removes the host stand-in, which must not run beside the real host. Meta Box's git tag has
# no Composer vendor/: a PSR-4 autoloader for MetaBox\ → src/ stands in for it.
set -euo pipefail
DEST=$1
plugins=$DEST/wp-content/plugins
rm -f "$plugins/ss-host-standin"
rm -rf "$plugins/wp-cloud-deploy" "$plugins/meta-box"
tar -xzf "$SS_WPCD_FIXTURES/wp-cloud-deploy-5.8.0.tar.gz" -C "$plugins"
tar -xzf "$SS_WPCD_FIXTURES/meta-box-5.9.7.tar.gz" -C "$plugins"
mkdir -p "$plugins/meta-box/vendor"
cat > "$plugins/meta-box/vendor/autoload.php" <<'PHP'
<?php
// Written by the tests (tests/php-wpcd/add-wpcd.sh): Composer's PSR-4 map of the release.
spl_autoload_register(
	static function ( $class ) {
		if ( 0 === strpos( $class, 'MetaBox\\' ) ) {
			$file = __DIR__ . '/../src/' . str_replace( '\\', '/', substr( $class, 8 ) ) . '.php';
			if ( is_file( $file ) ) {
				require $file;
			}
		}
	}
);
PHP
