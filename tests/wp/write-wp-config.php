<?php
/**
 * Writes DEST/wp-config.php for a private test/demo WordPress copy.
 *
 *   php write-wp-config.php DEST DB_NAME DB_USER DB_HOST:PORT PORT
 *
 * Environment: SS_WP_DB_PASSWORD (default empty), SS_SHARED_SECRET and SS_SIDECAR_URL
 * (each written as a constant only when set).
 */
if ( PHP_SAPI !== 'cli' || $argc !== 6 ) {
	fwrite( STDERR, "usage: php write-wp-config.php DEST DB_NAME DB_USER DB_HOST:PORT PORT\n" );
	exit( 2 );
}
list( , $dest, $db_name, $db_user, $db_host, $port ) = $argv;

$url    = 'http://127.0.0.1:' . (int) $port;
$consts = array(
	'DB_NAME'                    => $db_name,
	'DB_USER'                    => $db_user,
	'DB_PASSWORD'                => (string) getenv( 'SS_WP_DB_PASSWORD' ),
	'DB_HOST'                    => $db_host,
	'DB_CHARSET'                 => 'utf8mb4',
	'DB_COLLATE'                 => '',
	'WP_HOME'                    => $url,
	'WP_SITEURL'                 => $url,
	'WP_DEBUG'                   => true,
	'WP_DEBUG_LOG'               => rtrim( $dest, '/' ) . '/wp-content/debug.log',
	'WP_DEBUG_DISPLAY'           => false,
	'SCRIPT_DEBUG'               => false,
	'DISABLE_WP_CRON'            => true,
	'AUTOMATIC_UPDATER_DISABLED' => true,
	'WP_AUTO_UPDATE_CORE'        => false,
	// Outbound HTTP is blocked; WordPress still allows localhost and the site's own host
	// (127.0.0.1), which is where the sidecar listens. WP_ACCESSIBLE_HOSTS stays unset.
	'WP_HTTP_BLOCK_EXTERNAL'     => true,
	'DISALLOW_FILE_MODS'         => true,
	'FS_METHOD'                  => 'direct',
);
foreach ( array( 'AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT' ) as $salt ) {
	// Fixed salts: a copy made again keeps its logins and nonces valid. Test copies only.
	$consts[ $salt ] = hash( 'sha256', 'scheduled-snapshots-test-' . $salt );
}
foreach ( array( 'SS_SHARED_SECRET', 'SS_SIDECAR_URL' ) as $name ) {
	$value = getenv( $name );
	if ( false !== $value && '' !== $value ) {
		$consts[ $name ] = $value;
	}
}

$php  = "<?php\n// Written by tests/wp/write-wp-config.php for a private test/demo copy. Do not use in production.\n";
foreach ( $consts as $name => $value ) {
	$php .= 'define( ' . var_export( $name, true ) . ', ' . var_export( $value, true ) . " );\n";
}
$php .= "\$table_prefix = getenv( 'SS_WP_TABLE_PREFIX' ) ?: 'wp_';\n";
$php .= "if ( ! defined( 'ABSPATH' ) ) {\n\tdefine( 'ABSPATH', __DIR__ . '/' );\n}\n";
$php .= "require_once ABSPATH . 'wp-settings.php';\n";

if ( false === file_put_contents( rtrim( $dest, '/' ) . '/wp-config.php', $php ) ) {
	fwrite( STDERR, "could not write $dest/wp-config.php\n" );
	exit( 1 );
}
