<?php
/**
 * The first two steps every admin-post handler takes, in this order (WP Crontrol's model):
 * capability check (403 if not), then check_admin_referer() with an action string bound to
 * the object the request is about.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Admin_Action {

	/**
	 * wp_die( 403 ) unless the current user has the plugin's capability.
	 */
	public static function require_capability(): void {
		if ( ! current_user_can( Config::required_capability() ) ) {
			wp_die(
				esc_html__( 'Sorry, you are not allowed to manage snapshots.', 'scheduled-snapshots' ),
				esc_html__( 'Not allowed', 'scheduled-snapshots' ),
				array(
					'response'  => 403,
					'back_link' => true,
				)
			);
		}
	}

	/**
	 * check_admin_referer() for "{$action}_{$object_id}" (dies with 403 when wrong or missing).
	 */
	public static function require_nonce( string $action, string $object_id ): void {
		check_admin_referer( self::nonce_action( $action, $object_id ) );
	}

	public static function nonce_action( string $action, string $object_id ): string {
		return $action . '_' . $object_id;
	}

	/**
	 * admin-post.php URL (GET) for a row action, with its nonce.
	 */
	public static function url( string $action, string $object_key, string $object_id, array $extra = array() ): string {
		$url = add_query_arg(
			array_merge(
				array(
					'action'    => $action,
					$object_key => $object_id,
				),
				$extra
			),
			admin_url( 'admin-post.php' )
		);
		return wp_nonce_url( $url, self::nonce_action( $action, $object_id ) );
	}

	/**
	 * An id from $_REQUEST that is safe to put in an API path, or null.
	 */
	public static function request_id( string $key ): ?string {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- callers verify the nonce next
		$raw = isset( $_REQUEST[ $key ] ) ? wp_unslash( $_REQUEST[ $key ] ) : null;
		return is_string( $raw ) ? Api_Shapes::id( $raw ) : null;
	}

	/**
	 * An id from the query string (screens choosing what to show), or null.
	 */
	public static function query_id( string $key ): ?string {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- selects what to display
		$raw = isset( $_GET[ $key ] ) ? wp_unslash( $_GET[ $key ] ) : null;
		return is_string( $raw ) ? Api_Shapes::id( $raw ) : null;
	}

	/**
	 * Text a user typed, kept as typed (tags included: they are escaped when printed, so a
	 * name like <b>web</b> shows as exactly that), minus invalid UTF-8 and control characters.
	 *
	 * @param mixed $value Unslashed request value.
	 */
	public static function plain_text( $value, bool $multiline = false, int $max = 2000 ): string {
		if ( ! is_string( $value ) ) {
			return '';
		}
		$value = wp_check_invalid_utf8( $value, true );
		$value = $multiline
			? preg_replace( '/[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/u', '', str_replace( "\r\n", "\n", $value ) )
			: preg_replace( '/[\x00-\x1F\x7F]+/u', ' ', $value );
		$value = trim( (string) $value );
		return function_exists( 'mb_substr' ) ? mb_substr( $value, 0, $max ) : substr( $value, 0, $max );
	}

	/**
	 * Step four: redirect and stop.
	 */
	public static function redirect( string $url ): void {
		wp_safe_redirect( $url );
		exit;
	}
}
