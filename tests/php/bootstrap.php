<?php
/**
 * PHPUnit bootstrap without WordPress's own test library (Debian does not ship it):
 * installs the WordPress copy made by run.sh under its own table prefix in a child process,
 * loads the host stand-in and our plugin early (muplugins_loaded), then loads WordPress.
 * Each test runs inside a database transaction (tests/php/includes/class-test-case.php).
 */

$wp_dir = getenv( 'SS_PHPUNIT_WP_DIR' );
if ( ! $wp_dir || ! is_file( $wp_dir . '/wp-config.php' ) ) {
	fwrite( STDERR, "SS_PHPUNIT_WP_DIR does not point at a WordPress copy: run the tests with tests/php/run.sh\n" );
	exit( 2 );
}
$wp_dir = rtrim( $wp_dir, '/' );
$root   = dirname( __DIR__, 2 );

// Our own tables, so a browser test or the demo can share the copy's database.
putenv( 'SS_WP_TABLE_PREFIX=phpunit_' );

// Fresh install in a child process (WP_INSTALLING must not leak into the tests). Tests that
// PHPUnit runs in a separate process bootstrap again: they inherit the flag and skip this.
if ( ! getenv( 'SS_PHPUNIT_INSTALLED' ) ) {
	$cmd = escapeshellarg( PHP_BINARY ) . ' ' . escapeshellarg( $root . '/tests/wp/install.php' ) . ' ' . escapeshellarg( $wp_dir ) . ' --fresh --admin-password=phpunit';
	passthru( $cmd, $status );
	if ( 0 !== $status ) {
		fwrite( STDERR, "installing WordPress for the tests failed\n" );
		exit( 1 );
	}
	putenv( 'SS_PHPUNIT_INSTALLED=1' );
}

define( 'SS_TESTS_ROOT', $root );
define( 'SS_TESTS_PLUGIN_DIRS', array( realpath( $root . '/plugin-php/scheduled-snapshots' ), realpath( $root . '/plugin-php/host-standin' ) ) );
define( 'SS_TESTS_DEBUG_LOG', $wp_dir . '/wp-content/debug.log' );

$_SERVER['HTTP_HOST']       = '127.0.0.1:8089';
$_SERVER['SERVER_NAME']     = '127.0.0.1';
$_SERVER['SERVER_PORT']     = '8089';
$_SERVER['REQUEST_URI']     = '/wp-admin/';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['REMOTE_ADDR']     = '127.0.0.1';
$_SERVER['PHP_SELF']        = '/wp-admin/index.php';

// Load the plugins as WordPress loads must-use plugins: early, whether active or not.
// ($wp_filter given as an array is turned into hooks by WordPress when it loads.)
$GLOBALS['wp_filter']['muplugins_loaded'][10]['ss_tests_load_plugins'] = array(
	'function'      => static function () use ( $wp_dir ) {
		foreach ( array( 'ss-host-standin/host-standin.php', 'scheduled-snapshots/scheduled-snapshots.php' ) as $plugin ) {
			$file = $wp_dir . '/wp-content/plugins/' . $plugin;
			wp_register_plugin_realpath( $file );
			require_once $file;
		}
	},
	'accepted_args' => 1,
);

require $wp_dir . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-list-table.php';

require __DIR__ . '/includes/class-fake-sidecar.php';
require __DIR__ . '/includes/class-test-case.php';
