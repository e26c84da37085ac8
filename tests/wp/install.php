<?php
/**
 * Installs WordPress in a copy made by make-copy.sh, without a browser or network.
 *
 *   SS_WP_TABLE_PREFIX=wp_ php tests/wp/install.php DEST [--fresh] [--activate]
 *       [--admin-password=…] [--timezone=Europe/Berlin]
 *
 * --fresh drops every table with this prefix first (this prefix only).
 * --activate activates the Scheduled Snapshots plugin and the host stand-in.
 * Avatars are turned off (no gravatar requests) and the block editor's welcome guide is
 * dismissed for the admin user.
 */
if ( PHP_SAPI !== 'cli' || $argc < 2 ) {
	fwrite( STDERR, "usage: php install.php DEST [--fresh] [--activate] [--admin-password=…] [--timezone=…]\n" );
	exit( 2 );
}
$dest = rtrim( $argv[1], '/' );
$opts = array(
	'fresh'          => false,
	'activate'       => false,
	'admin-password' => '',
	'timezone'       => '',
);
foreach ( array_slice( $argv, 2 ) as $arg ) {
	if ( preg_match( '/^--([a-z-]+)(?:=(.*))?$/', $arg, $m ) && array_key_exists( $m[1], $opts ) ) {
		$opts[ $m[1] ] = isset( $m[2] ) ? $m[2] : true;
	} else {
		fwrite( STDERR, "unknown argument: $arg\n" );
		exit( 2 );
	}
}

define( 'WP_INSTALLING', true );
$_SERVER['HTTP_HOST']   = '127.0.0.1';
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';

/** No mail here: WordPress would try sendmail to announce the new site. */
function wp_new_blog_notification() {}

require $dest . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

global $wpdb;
if ( $opts['fresh'] ) {
	$tables = $wpdb->get_col( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $wpdb->prefix ) . '%' ) );
	foreach ( $tables as $table ) {
		$wpdb->query( 'DROP TABLE IF EXISTS `' . str_replace( '`', '', $table ) . '`' );
	}
	wp_cache_flush();
}

$password = '' !== $opts['admin-password'] ? $opts['admin-password'] : wp_generate_password( 20, false );
if ( ! is_blog_installed() ) {
	$result = wp_install( 'Scheduled Snapshots', 'admin', 'admin@example.test', false, '', wp_slash( $password ) );
	if ( empty( $result['user_id'] ) ) {
		fwrite( STDERR, "wp_install failed\n" );
		exit( 1 );
	}
} else {
	$admin = get_user_by( 'login', 'admin' );
	if ( $admin ) {
		wp_set_password( $password, $admin->ID );
	}
}

update_option( 'show_avatars', 0 );
update_option( 'blog_public', 0 );
if ( '' !== $opts['timezone'] ) {
	update_option( 'timezone_string', $opts['timezone'] );
	update_option( 'gmt_offset', '' );
}
$admin = get_user_by( 'login', 'admin' );
if ( $admin ) {
	update_user_meta(
		$admin->ID,
		$wpdb->get_blog_prefix() . 'persisted_preferences',
		array(
			'core/edit-post' => array( 'welcomeGuide' => false ),
			'_modified'      => gmdate( 'c' ),
		)
	);
	update_user_meta( $admin->ID, 'show_welcome_panel', 0 );
}

if ( $opts['activate'] ) {
	foreach ( array( 'ss-host-standin/host-standin.php', 'scheduled-snapshots/scheduled-snapshots.php' ) as $plugin ) {
		$activated = activate_plugin( $plugin, '', false, true );
		if ( is_wp_error( $activated ) ) {
			fwrite( STDERR, "could not activate $plugin: " . $activated->get_error_message() . "\n" );
			exit( 1 );
		}
	}
}
