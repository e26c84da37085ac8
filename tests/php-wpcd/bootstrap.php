<?php
/**
 * PHPUnit bootstrap for the real-WPCloudDeploy suite (tests/php-wpcd/run.sh): installs the
 * copy afresh in a child process, activates Meta Box, WPCloudDeploy and our plugin the way
 * wp-admin does (activate_plugin(), activation hooks included) in another, then loads
 * WordPress with them active. Tests share tests/php/includes (transactions, fake sidecar).
 */

$wp_dir = getenv( 'SS_PHPUNIT_WP_DIR' );
if ( ! $wp_dir || ! is_file( $wp_dir . '/wp-config.php' ) || ! is_dir( $wp_dir . '/wp-content/plugins/wp-cloud-deploy' ) ) {
	fwrite( STDERR, "SS_PHPUNIT_WP_DIR does not point at a WordPress copy with WPCloudDeploy: run the tests with tests/php-wpcd/run.sh\n" );
	exit( 2 );
}
$wp_dir = rtrim( $wp_dir, '/' );
$root   = dirname( __DIR__, 2 );

putenv( 'SS_WP_TABLE_PREFIX=phpwpcd_' );

if ( ! getenv( 'SS_PHPUNIT_INSTALLED' ) ) {
	if ( is_file( $wp_dir . '/wp-content/debug.log' ) ) {
		unlink( $wp_dir . '/wp-content/debug.log' ); // activation's notices are the first test's to read
	}
	foreach ( array( 'tests/wp/install.php --fresh --admin-password=phpunit', 'tests/php-wpcd/activate.php', 'tests/php-wpcd/activate.php --settings', 'tests/php-wpcd/activate.php --settings-constant' ) as $step ) {
		list( $script, $args ) = array_pad( explode( ' ', $step, 2 ), 2, '' );
		$cmd = escapeshellarg( PHP_BINARY ) . ' ' . escapeshellarg( $root . '/' . $script ) . ' ' . escapeshellarg( $wp_dir ) . ' ' . $args;
		passthru( $cmd, $status );
		if ( 0 !== $status ) {
			fwrite( STDERR, "$step failed\n" );
			exit( 1 );
		}
	}
	putenv( 'SS_PHPUNIT_INSTALLED=1' );
}

define( 'SS_TESTS_ROOT', $root );
define( 'SS_TESTS_PLUGIN_DIRS', array( realpath( $root . '/plugin-php/scheduled-snapshots' ) ) );
define( 'SS_TESTS_DEBUG_LOG', $wp_dir . '/wp-content/debug.log' );

$_SERVER['HTTP_HOST']       = '127.0.0.1:8089';
$_SERVER['SERVER_NAME']     = '127.0.0.1';
$_SERVER['SERVER_PORT']     = '8089';
$_SERVER['REQUEST_URI']     = '/wp-admin/';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['REMOTE_ADDR']     = '127.0.0.1';
$_SERVER['PHP_SELF']        = '/wp-admin/index.php';

require $wp_dir . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-list-table.php';

require $root . '/tests/php/includes/class-fake-sidecar.php';
require $root . '/tests/php/includes/class-test-case.php';
require __DIR__ . '/includes/class-fake-digitalocean.php';
require __DIR__ . '/includes/class-wpcd-test-case.php';
require __DIR__ . '/includes/class-real-sidecar.php';
