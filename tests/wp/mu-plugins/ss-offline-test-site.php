<?php
/**
 * Plugin Name: Scheduled Snapshots test site — offline (tests and demo only)
 * Description: This copy of WordPress has no internet: stop core's update checks and the
 * dashboard's news feed, which would otherwise log a PHP warning on every admin page and
 * make "no line in debug.log" tests fail for reasons that are not ours.
 *
 * Installed by tests/wp/make-copy.sh into wp-content/mu-plugins of test and demo copies only.
 */

defined( 'ABSPATH' ) || exit;

/** "Checked just now, nothing new": core never calls api.wordpress.org. */
function ss_offline_fresh_update_check( $value, $transient = '' ) {
	$fresh = (object) array(
		'last_checked'    => time(),
		'version_checked' => get_bloginfo( 'version' ),
		'updates'         => array(),
		'translations'    => array(),
		'checked'         => array(),
		'response'        => array(),
		'no_update'       => array(),
	);
	return $fresh;
}
add_filter( 'pre_site_transient_update_core', 'ss_offline_fresh_update_check', 10, 2 );
add_filter( 'pre_site_transient_update_plugins', 'ss_offline_fresh_update_check', 10, 2 );
add_filter( 'pre_site_transient_update_themes', 'ss_offline_fresh_update_check', 10, 2 );

add_action(
	'init',
	static function () {
		remove_action( 'admin_init', '_maybe_update_core' );
		remove_action( 'admin_init', '_maybe_update_plugins' );
		remove_action( 'admin_init', '_maybe_update_themes' );
		remove_action( 'wp_version_check', 'wp_version_check' );
		remove_action( 'wp_update_plugins', 'wp_update_plugins' );
		remove_action( 'wp_update_themes', 'wp_update_themes' );
		remove_action( 'init', 'wp_schedule_update_checks' );
	},
	0
);

add_action(
	'wp_dashboard_setup',
	static function () {
		remove_meta_box( 'dashboard_primary', 'dashboard', 'side' );
		remove_meta_box( 'dashboard_site_health', 'dashboard', 'normal' );
	}
);

/** Browser and PHP version nags ask api.wordpress.org: answer "fine" locally. */
add_filter(
	'pre_http_request',
	static function ( $pre, $args, $url ) {
		$host = wp_parse_url( $url, PHP_URL_HOST );
		if ( is_string( $host ) && ( 'api.wordpress.org' === $host || 'wordpress.org' === $host || str_ends_with( $host, '.wordpress.org' ) ) ) {
			return new WP_Error( 'ss_offline', 'This test copy of WordPress is offline.' );
		}
		return $pre;
	},
	10,
	3
);

/** The language lists use the installed languages only: no call for the available ones. */
add_filter( 'pre_site_transient_available_translations', static function () { return array(); } );
