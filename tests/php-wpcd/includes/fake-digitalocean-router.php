<?php
/**
 * DigitalOcean for the real sidecar's test call (php -S 127.0.0.1:PORT this-file): lists no
 * snapshots for the two tokens WPCD's settings hold, refuses any other as DigitalOcean does.
 */
$tokens = array( 'dop_v1_entered_in_wpcd_settings_0001', 'dop_v1_alternate_under_wp_config_key_0002' );
$auth   = $_SERVER['HTTP_AUTHORIZATION'] ?? '';
header( 'Content-Type: application/json' );
if ( ! in_array( substr( $auth, 7 ), $tokens, true ) || 0 !== strpos( $auth, 'Bearer ' ) ) {
	http_response_code( 401 );
	echo '{"id":"unauthorized","message":"Unable to authenticate you"}';
	return;
}
echo '{"snapshots":[],"links":{},"meta":{"total":0}}';
