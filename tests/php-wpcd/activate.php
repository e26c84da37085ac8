<?php
/**
 * Activates Meta Box, WPCloudDeploy and Scheduled Snapshots in a freshly installed copy, as
 * the Plugins screen would (activation hooks run); with --settings (a later run, WPCD loaded)
 * enters the DigitalOcean key as an admin does (WPCD encrypts it with its option key), with
 * --settings-constant a second account's key under wp-config's WPCD_ENCRYPTION_KEY. Every PHP notice goes to debug.log, where the
 * suite looks for lines from our plugin.
 *
 *   SS_WP_TABLE_PREFIX=… php tests/php-wpcd/activate.php WP_DIR [--settings|--settings-constant]
 */
if ( PHP_SAPI !== 'cli' || $argc < 2 ) {
	fwrite( STDERR, "usage: php activate.php WP_DIR\n" );
	exit( 2 );
}
if ( in_array( '--settings-constant', $argv, true ) ) {
	// wp-config.php's WPCD_ENCRYPTION_KEY, which WPCD prefers to its option (the other key source).
	define( 'WPCD_ENCRYPTION_KEY', 'phpunit-wp-config-wpcd-key-0002' );
}
$_SERVER['HTTP_HOST']   = '127.0.0.1:8089';
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/wp-admin/plugins.php';
require rtrim( $argv[1], '/' ) . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
// WPCD calls DigitalOcean and its own servers on activation and admin pages: nothing leaves.
add_filter( 'pre_http_request', static function () { return new WP_Error( 'http_request_not_executed', 'offline test site' ); } );
add_filter( 'pre_wp_mail', '__return_true' ); // no sendmail here
wp_set_current_user( 1 );
if ( defined( 'WPCD_ENCRYPTION_KEY' ) ) {
	$settings = (array) get_option( 'wpcd_settings', array() );
	$settings['vpn_digital-ocean-alternate_apikey'] = WPCD()->encrypt( 'dop_v1_alternate_under_wp_config_key_0002' );
	update_option( 'wpcd_settings', $settings );
	exit( 0 );
}
if ( in_array( '--settings', $argv, true ) ) {
	// Under WPCloudDeploy → Settings → Cloud Providers: encrypted by WPCD itself, with the key
	// it generated on activation (option wpcd_encryption_key_v2).
	$settings = get_option( 'wpcd_settings', array() );
	$settings = is_array( $settings ) ? $settings : array();
	$settings['vpn_digital-ocean_apikey'] = WPCD()->encrypt( 'dop_v1_entered_in_wpcd_settings_0001' );
	update_option( 'wpcd_settings', $settings );
	exit( 0 );
}
foreach ( array( 'meta-box/meta-box.php', 'wp-cloud-deploy/wpcd.php', 'scheduled-snapshots/scheduled-snapshots.php' ) as $plugin ) {
	$result = activate_plugin( $plugin );
	if ( is_wp_error( $result ) ) {
		fwrite( STDERR, "activating $plugin failed: " . $result->get_error_message() . "\n" );
		exit( 1 );
	}
}

