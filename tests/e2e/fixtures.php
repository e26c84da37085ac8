<?php
/**
 * Browser-suite fixtures in an installed copy (after tests/wp/setup-site.sh): an editor and a
 * subscriber (passwords from SS_E2E_EDITOR_PASSWORD / SS_E2E_SUBSCRIBER_PASSWORD), made with
 * WordPress's own functions. Prints JSON on stdout: the servers (id, name, instanceId) and
 * the users (login, role).
 *
 *   php tests/e2e/fixtures.php DEST
 */
if ( PHP_SAPI !== 'cli' || $argc !== 2 ) {
	fwrite( STDERR, "usage: php fixtures.php DEST\n" );
	exit( 2 );
}
$dest = rtrim( $argv[1], '/' );

$_SERVER['HTTP_HOST']   = '127.0.0.1';
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
require $dest . '/wp-load.php';

$users = array();
foreach ( array( 'editor' => 'SS_E2E_EDITOR_PASSWORD', 'subscriber' => 'SS_E2E_SUBSCRIBER_PASSWORD' ) as $role => $env ) {
	$password = (string) getenv( $env );
	if ( '' === $password ) {
		fwrite( STDERR, "$env is not set\n" );
		exit( 2 );
	}
	$login = 'e2e-' . $role;
	$id    = username_exists( $login );
	if ( ! $id ) {
		$id = wp_insert_user(
			array(
				'user_login'   => $login,
				'user_pass'    => $password,
				'user_email'   => $login . '@example.test',
				'display_name' => 'E2E ' . ucfirst( $role ),
				'role'         => $role,
			)
		);
		if ( is_wp_error( $id ) ) {
			fwrite( STDERR, "could not create $login: " . $id->get_error_message() . "\n" );
			exit( 1 );
		}
	} else {
		wp_set_password( $password, $id );
	}
	update_user_meta( $id, 'show_welcome_panel', 0 );
	$users[] = array(
		'id'    => (int) $id,
		'login' => $login,
		'role'  => $role,
	);
}

$servers = array();
$posts   = get_posts(
	array(
		'post_type'   => 'wpcd_app_server',
		'post_status' => 'any',
		'numberposts' => -1,
		'orderby'     => 'ID',
		'order'       => 'ASC',
	)
);
foreach ( $posts as $post ) {
	$servers[] = array(
		'id'         => (int) $post->ID,
		'name'       => $post->post_title,
		'instanceId' => (string) get_post_meta( $post->ID, 'wpcd_server_provider_instance_id', true ),
	);
}
echo wp_json_encode(
	array(
		'servers' => $servers,
		'users'   => $users,
	),
	JSON_PRETTY_PRINT
), "\n";
