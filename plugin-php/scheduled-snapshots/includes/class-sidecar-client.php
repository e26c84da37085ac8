<?php
/**
 * The only way this plugin talks to the sidecar: signed JSON requests over wp_remote_request.
 *
 * Every failure becomes a WP_Error whose message is a sentence a user can act on; nothing
 * here emits a PHP warning. JSON answers are untrusted and escaped where printed; screens are
 * HTML the sidecar rendered from its views.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

use WP_Error;

defined( 'ABSPATH' ) || exit;

final class Sidecar_Client {

	/** Seconds. Screens wait for the sidecar while rendering, so keep it short. */
	const DEFAULT_TIMEOUT = 5;

	/** @var string */
	private $base_url;

	/** @var string|null */
	private $secret;

	public function __construct( string $base_url, ?string $secret ) {
		$this->base_url = untrailingslashit( $base_url );
		$this->secret   = $secret;
	}

	/** The client configured from wp-config constants and the plugin's settings (filter: ss_sidecar_client). */
	public static function from_config(): self {
		$client   = new self( Config::sidecar_url(), Config::shared_secret() );
		$filtered = apply_filters( 'ss_sidecar_client', $client );
		return $filtered instanceof self ? $filtered : $client;
	}

	/** Every verb: @return array|WP_Error Decoded JSON. */
	public function get( string $path, array $query = array() ) {
		return $this->request( 'GET', $path, $query, null );
	}

	public function post( string $path, array $body = array() ) {
		return $this->request( 'POST', $path, array(), $body );
	}

	public function delete( string $path ) {
		return $this->request( 'DELETE', $path, array(), null );
	}

	/** One screen, drawn by the sidecar: the HTML fragment (string), or a WP_Error saying what is wrong. */
	public function render( string $screen, array $context ) {
		return $this->request( 'GET', '/ui/v1/' . rawurlencode( $screen ), array( 'ctx' => wp_json_encode( $context ) ), null, null, true );
	}

	/** The secret is usable? null when it is, else the WP_Error saying what to fix. */
	public function secret_problem(): ?WP_Error {
		if ( null === $this->secret || '' === $this->secret ) {
			return new WP_Error( 'ss_secret_missing', __( 'SS_SHARED_SECRET is not defined in wp-config.php: add define( \'SS_SHARED_SECRET\', \'…\' ); with the same value as the sidecar\'s SS_SHARED_SECRET (at least 32 characters).', 'scheduled-snapshots' ) );
		}
		$length = strlen( $this->secret );
		/* translators: 1: length of the secret, 2: minimum length */
		return $length >= Config::MIN_SECRET_LENGTH ? null : new WP_Error( 'ss_secret_short', sprintf( __( 'SS_SHARED_SECRET in wp-config.php is too short (%1$d characters): use at least %2$d characters, the same value as the sidecar\'s SS_SHARED_SECRET.', 'scheduled-snapshots' ), $length, Config::MIN_SECRET_LENGTH ) );
	}

	/**
	 * One signed request to a path under /api/ or /ui/: query arguments ('' and null left out), a JSON
	 * body or null, X-SS-Actor (default: the current user id, or "system"), an HTML fragment (a screen)
	 * or JSON expected. @return array|string|WP_Error
	 */
	public function request( string $method, string $path, array $query = array(), ?array $body = null, ?string $actor = null, bool $html = false ) {
		$problem = $this->secret_problem();
		if ( $problem ) {
			return $problem;
		}
		if ( ! Config::is_valid_sidecar_url( $this->base_url ) ) {
			return $this->bad_url_error();
		}

		$method   = strtoupper( $method );
		$query    = array_filter( $query, static function ( $value ) { return null !== $value && '' !== $value; } );
		$base     = wp_parse_url( $this->base_url );
		$target   = ( isset( $base['path'] ) ? untrailingslashit( $base['path'] ) : '' ) . '/' . ltrim( $path, '/' );
		$qs       = $query ? http_build_query( $query, '', '&', PHP_QUERY_RFC3986 ) : '';
		$target  .= '' === $qs ? '' : '?' . $qs;
		$origin   = $base['scheme'] . '://' . $base['host'] . ( isset( $base['port'] ) ? ':' . $base['port'] : '' );
		$raw_body = null === $body ? '' : (string) wp_json_encode( (object) $body );
		if ( null === $actor ) {
			$user  = get_current_user_id();
			$actor = $user > 0 ? (string) $user : 'system';
		}

		$headers = Request_Signature::headers( (string) $this->secret, $method, $target, $actor, $raw_body );
		$headers['Accept'] = $html ? 'text/html' : 'application/json';
		if ( null !== $body ) {
			$headers['Content-Type'] = 'application/json';
		}

		$response = wp_remote_request(
			$origin . $target,
			array(
				'method'              => $method,
				'headers'             => $headers,
				'body'                => null === $body ? null : $raw_body,
				'timeout'             => (int) apply_filters( 'ss_sidecar_timeout', self::DEFAULT_TIMEOUT ),
				'redirection'         => 0,
				'limit_response_size' => 4 * MB_IN_BYTES,
				'user-agent'          => 'ScheduledSnapshots-WordPress/' . VERSION,
			)
		);
		return $this->interpret( $response, $html );
	}

	/** A wp_remote_request() result (array|WP_Error) → decoded JSON (array), HTML (string) or a WP_Error. */
	private function interpret( $response, bool $html = false ) {
		if ( is_wp_error( $response ) ) {
			return $this->transport_error( $response );
		}
		$status = (int) wp_remote_retrieve_response_code( $response );
		$raw    = (string) wp_remote_retrieve_body( $response );
		$json   = '' === $raw ? null : json_decode( $raw, true );
		$api    = is_array( $json ) && isset( $json['error'] ) && is_array( $json['error'] ) ? $json['error'] : null;

		if ( $html && 200 === $status ) {
			// A whole screen or nothing: a fragment that is not ours would be half a page.
			$type = (string) wp_remote_retrieve_header( $response, 'content-type' );
			return 0 === strpos( $type, 'text/html' ) && false !== strpos( $raw, 'ss-' ) ? $raw : $this->bad_response_error( $status );
		}
		if ( $status >= 200 && $status < 300 ) {
			if ( 204 === $status || '' === $raw ) {
				return array();
			}
			return is_array( $json ) ? $json : $this->bad_response_error( $status );
		}

		$api_message = $api && isset( $api['message'] ) && is_string( $api['message'] ) ? self::clip( $api['message'] ) : '';
		$api_code    = $api && isset( $api['code'] ) && is_scalar( $api['code'] ) ? (string) $api['code'] : '';

		if ( 401 === $status ) {
			/* translators: 1: URL, 2: the service's own explanation */
			$message = sprintf( __( 'The snapshot service at %1$s refused this site\'s signature: SS_SHARED_SECRET in wp-config.php must be exactly the sidecar\'s SS_SHARED_SECRET, and both clocks must be right. The service said: %2$s', 'scheduled-snapshots' ), $this->base_url, '' !== $api_message ? $api_message : __( '(nothing)', 'scheduled-snapshots' ) );
			return new WP_Error( 'ss_signature_refused', $message, array( 'status' => 401, 'apiCode' => $api_code ) );
		}
		if ( $status >= 500 || null === $api || '' === $api_message ) {
			return $this->bad_response_error( $status, $api_message );
		}

		$fields = array();
		if ( isset( $api['details']['fields'] ) && is_array( $api['details']['fields'] ) ) {
			foreach ( $api['details']['fields'] as $field => $sentence ) {
				if ( is_string( $field ) && is_string( $sentence ) ) {
					$fields[ $field ] = self::clip( $sentence );
				}
			}
		}
		return new WP_Error( 'ss_api_error', $api_message, array( 'status' => $status, 'apiCode' => $api_code, 'fields' => $fields ) );
	}

	private function transport_error( WP_Error $error ): WP_Error {
		if ( 'http_request_not_executed' === $error->get_error_code() ) {
			/* translators: %s: URL */
			return new WP_Error( 'ss_http_blocked', sprintf( __( 'WordPress blocks outgoing requests to the snapshot service at %s (WP_HTTP_BLOCK_EXTERNAL in wp-config.php): add its host name to WP_ACCESSIBLE_HOSTS.', 'scheduled-snapshots' ), $this->base_url ) );
		}
		/* translators: 1: URL, 2: low-level reason */
		return new WP_Error( 'ss_unreachable', sprintf( __( 'The snapshot service at %1$s is not answering: start it with `npm start` in the Scheduled Snapshots folder (with its SS_* settings), or correct its address under Settings. Details: %2$s', 'scheduled-snapshots' ), $this->base_url, self::clip( $error->get_error_message() ) ) );
	}

	private function bad_response_error( int $status, string $api_message = '' ): WP_Error {
		/* translators: 1: URL, 2: HTTP status */
		$message = sprintf( __( 'The snapshot service at %1$s answered HTTP %2$d without a usable reply: check that this is the sidecar\'s address and read the sidecar\'s log.', 'scheduled-snapshots' ), $this->base_url, $status );
		/* translators: %s: the service's own message */
		$message .= '' === $api_message ? '' : ' ' . sprintf( __( 'The service said: %s', 'scheduled-snapshots' ), $api_message );
		return new WP_Error( 'ss_bad_response', $message, array( 'status' => $status ) );
	}

	private function bad_url_error(): WP_Error {
		/* translators: %s: the configured URL */
		return new WP_Error( 'ss_bad_url', sprintf( __( 'The snapshot service address "%s" is not an http:// or https:// URL: correct it under Settings (or SS_SIDECAR_URL in wp-config.php).', 'scheduled-snapshots' ), $this->base_url ) );
	}

	/** Untrusted text is kept short; it is escaped where printed. */
	private static function clip( string $text ): string {
		$text = wp_strip_all_tags( $text );
		return function_exists( 'mb_substr' ) ? mb_substr( $text, 0, 500 ) : substr( $text, 0, 500 );
	}
}
