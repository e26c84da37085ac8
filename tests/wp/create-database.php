<?php
/**
 * Creates a MySQL/MariaDB database if it does not exist (utf8mb4).
 *
 *   php create-database.php HOST:PORT USER DB_NAME      (password: SS_WP_DB_PASSWORD)
 */
if ( PHP_SAPI !== 'cli' || $argc !== 4 ) {
	fwrite( STDERR, "usage: php create-database.php HOST:PORT USER DB_NAME\n" );
	exit( 2 );
}
list( , $host_port, $user, $db ) = $argv;
if ( ! preg_match( '/^[A-Za-z0-9_]+$/', $db ) ) {
	fwrite( STDERR, "database name must be letters, digits and _ only: $db\n" );
	exit( 2 );
}
$parts = explode( ':', $host_port, 2 );
$host  = $parts[0];
$port  = isset( $parts[1] ) ? (int) $parts[1] : 3306;
mysqli_report( MYSQLI_REPORT_OFF );
$link = @mysqli_connect( $host, $user, (string) getenv( 'SS_WP_DB_PASSWORD' ), '', $port );
if ( ! $link ) {
	fwrite( STDERR, "cannot connect to MySQL at $host:$port as $user: " . mysqli_connect_error() . "\n" );
	exit( 1 );
}
if ( ! mysqli_query( $link, "CREATE DATABASE IF NOT EXISTS `$db` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" ) ) {
	fwrite( STDERR, 'cannot create database ' . $db . ': ' . mysqli_error( $link ) . "\n" );
	exit( 1 );
}
