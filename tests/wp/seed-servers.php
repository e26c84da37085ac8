<?php
/**
 * Creates host servers (posts of type wpcd_app_server, status private) in an installed copy
 * whose host stand-in plugin is active.
 *
 *   SS_WP_TABLE_PREFIX=wp_ php tests/wp/seed-servers.php DEST [COUNT] [PROVIDER_SLUG]
 *
 * Servers are named web-1, web-2, …; instance ids sbx-i-1001, …; skipped when a server with
 * that name already exists, so running it twice is harmless.
 */
if ( PHP_SAPI !== 'cli' || $argc < 2 ) {
	fwrite( STDERR, "usage: php seed-servers.php DEST [COUNT] [PROVIDER_SLUG]\n" );
	exit( 2 );
}
$dest     = rtrim( $argv[1], '/' );
$count    = isset( $argv[2] ) ? max( 0, (int) $argv[2] ) : 3;
$provider = isset( $argv[3] ) ? $argv[3] : 'sandbox';

$_SERVER['HTTP_HOST']   = '127.0.0.1';
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
require $dest . '/wp-load.php';

if ( ! post_type_exists( 'wpcd_app_server' ) ) {
	fwrite( STDERR, "post type wpcd_app_server is not registered: activate the host stand-in first\n" );
	exit( 1 );
}
$admin = get_user_by( 'login', 'admin' );
wp_set_current_user( $admin ? $admin->ID : 0 );

for ( $i = 1; $i <= $count; $i++ ) {
	$name     = 'web-' . $i;
	$existing = get_posts(
		array(
			'post_type'   => 'wpcd_app_server',
			'post_status' => 'any',
			'title'       => $name,
			'fields'      => 'ids',
		)
	);
	if ( $existing ) {
		continue;
	}
	$id = wp_insert_post(
		array(
			'post_type'   => 'wpcd_app_server',
			'post_status' => 'private',
			'post_title'  => $name,
			'post_author' => $admin ? $admin->ID : 0,
			'meta_input'  => array(
				'wpcd_server_provider'             => $provider,
				'wpcd_server_provider_instance_id' => 'sbx-i-' . ( 1000 + $i ),
				'wpcd_server_region'               => 'sandbox-1',
				'wpcd_server_name'                 => $name,
				'wpcd_server_ipv4'                 => '203.0.113.' . ( 10 + $i ),
			),
		),
		true
	);
	if ( is_wp_error( $id ) ) {
		fwrite( STDERR, "could not create $name: " . $id->get_error_message() . "\n" );
		exit( 1 );
	}
}
