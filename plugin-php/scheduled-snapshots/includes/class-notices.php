<?php
/**
 * After an admin-post action the handler redirects with a message code (?ss_message=…);
 * the next render hands the code to the sidecar, whose views say it in the user's language.
 * A sentence from the sidecar or this plugin (an error) is not put in the URL, where anyone
 * could forge it: it waits in a short-lived transient of the current user, and the URL
 * carries only its random key (?ss_detail=…).
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

use WP_Error;

defined( 'ABSPATH' ) || exit;

final class Notices {

	const ARG_CODE   = 'ss_message';
	const ARG_COUNT  = 'ss_count';
	const ARG_DETAIL = 'ss_detail';

	/** @var array|null|false The notice of this request once read (false: not read yet). */
	private static $taken = false;

	/** URL with the message code (and a detail kept server-side: a sentence, or bulk results). */
	public static function url( string $url, string $code, ?int $count = null, $detail = null ): string {
		$args = array( self::ARG_CODE => $code );
		if ( null !== $count ) {
			$args[ self::ARG_COUNT ] = $count;
		}
		if ( null !== $detail && '' !== $detail && array() !== $detail ) {
			$key = strtolower( wp_generate_password( 12, false ) );
			set_transient( self::transient( $key ), $detail, 10 * MINUTE_IN_SECONDS );
			$args[ self::ARG_DETAIL ] = $key;
		}
		return add_query_arg( $args, $url );
	}

	public static function error_url( string $url, WP_Error $error ): string {
		return self::url( $url, 'error', null, $error->get_error_message() );
	}

	private static function transient( string $key ): string {
		return 'ss_notice_' . get_current_user_id() . '_' . $key;
	}

	/** This page's notice: ?ss_message=… (its detail shown once), or one queued for the user; else null. */
	public static function take_from_request(): ?array {
		if ( false !== self::$taken ) {
			return self::$taken;
		}
		self::$taken = null;
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- display only
		if ( ! empty( $_GET[ self::ARG_CODE ] ) ) {
			$notice = array(
				'code'   => sanitize_key( wp_unslash( $_GET[ self::ARG_CODE ] ) ),
				'count'  => isset( $_GET[ self::ARG_COUNT ] ) ? absint( $_GET[ self::ARG_COUNT ] ) : 0,
				'detail' => '',
			);
			$key    = isset( $_GET[ self::ARG_DETAIL ] ) ? sanitize_key( wp_unslash( $_GET[ self::ARG_DETAIL ] ) ) : '';
			// phpcs:enable
			if ( preg_match( '/^[a-z0-9]{12}$/', $key ) ) {
				$detail = get_transient( self::transient( $key ) );
				delete_transient( self::transient( $key ) );
				if ( is_string( $detail ) ) {
					$notice['detail'] = substr( $detail, 0, 2000 );
				} elseif ( is_array( $detail ) ) {
					$notice['results'] = array_slice( $detail, 0, 200 );
				}
			}
			self::$taken = $notice;
			return $notice;
		}
		$user  = get_current_user_id();
		$queue = get_user_meta( $user, 'ss_queued_notices', true );
		if ( is_array( $queue ) && $queue ) {
			delete_user_meta( $user, 'ss_queued_notices' );
			$item = end( $queue );
			if ( is_array( $item ) && isset( $item['code'], $item['detail'] ) ) {
				self::$taken = array( 'code' => (string) $item['code'], 'count' => 0, 'detail' => (string) $item['detail'] );
			}
		}
		return self::$taken;
	}

	/** A new request (or test) reads the notice afresh. */
	public static function forget(): void {
		self::$taken = false;
	}

	/** A notice that waits for the user's next screen of ours (the backup-tab hook has no redirect of ours). */
	public static function queue_for_user( int $user_id, string $code, string $detail ): void {
		if ( $user_id <= 0 ) {
			return;
		}
		$queue   = get_user_meta( $user_id, 'ss_queued_notices', true );
		$queue   = is_array( $queue ) ? array_slice( $queue, -4 ) : array();
		$queue[] = array( 'code' => $code, 'detail' => $detail );
		update_user_meta( $user_id, 'ss_queued_notices', $queue );
	}

	/** When the sidecar cannot draw the screen, the last action's sentence (if any) still shows. */
	public static function render(): void {
		$notice = self::take_from_request();
		if ( $notice && '' !== $notice['detail'] ) {
			printf( '<div class="notice notice-info is-dismissible ss-notice" id="ss-notice-%1$s"><p>%2$s</p></div>', esc_attr( $notice['code'] ), esc_html( $notice['detail'] ) );
		}
	}

	/** "The sidecar is not answering" and the like, on a screen. */
	public static function print_inline_error( WP_Error $error ): void {
		printf(
			'<div class="notice notice-error inline ss-service-error" data-ss-error="%1$s"><p>%2$s</p></div>',
			esc_attr( (string) $error->get_error_code() ),
			esc_html( $error->get_error_message() )
		);
	}

	/** What was typed in the schedule form and what was wrong, for the form the handler redirects to. */
	public static function keep_form_state( string $object, array $values, array $errors ): void {
		set_transient( 'ss_schedule_form_' . get_current_user_id(), compact( 'object', 'values', 'errors' ), 10 * MINUTE_IN_SECONDS );
	}

	public static function take_form_state( string $object ): ?array {
		$key   = 'ss_schedule_form_' . get_current_user_id();
		$state = get_transient( $key );
		if ( ! is_array( $state ) || ( $state['object'] ?? null ) !== $object ) {
			return null;
		}
		delete_transient( $key );
		return array( 'values' => (object) ( $state['values'] ?? array() ), 'errors' => (object) ( $state['errors'] ?? array() ) );
	}
}
