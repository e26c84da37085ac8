<?php
/**
 * After an admin-post action the handler redirects with a message code (?ss_message=…);
 * the screen turns the code into an escaped notice. Text that comes from the sidecar (an
 * error sentence, "the provider copy stays") is not put in the URL, where anyone could
 * forge it: it waits in a short-lived transient of the current user, and the URL carries
 * only its random key (?ss_detail=…).
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

	/**
	 * Message codes → [notice type, text, detail replaces text?]. Text may contain one %d
	 * (from ss_count). The detail is the sidecar's own sentence, when it sent one.
	 *
	 * @return array<string,array>
	 */
	public static function messages(): array {
		return array(
			'schedule-created'        => array( 'success', __( 'Schedule created.', 'scheduled-snapshots' ) ),
			'schedule-updated'        => array( 'success', __( 'Schedule updated.', 'scheduled-snapshots' ) ),
			/* translators: %d: number of snapshots */
			'schedule-deleted'        => array( 'success', __( 'Schedule deleted. Its snapshots stay in the list (%d kept), with their protection unchanged.', 'scheduled-snapshots' ) ),
			'schedule-invalid'        => array( 'error', __( 'The schedule was not saved: correct the fields marked below.', 'scheduled-snapshots' ) ),
			'snapshot-trashed'        => array( 'success', __( 'Snapshot deleted at the provider and removed from the list.', 'scheduled-snapshots' ), true ),
			'snapshot-trash-pending'  => array( 'info', __( 'Deletion is under way at the provider; the snapshot leaves the list when it is done.', 'scheduled-snapshots' ), true ),
			'snapshot-trash-failed'   => array( 'error', __( 'The provider could not delete the snapshot. Use Delete Record to remove only our record.', 'scheduled-snapshots' ), true ),
			'snapshot-record-only'    => array( 'warning', __( 'Snapshot removed from the list. The provider cannot delete it through its API, so the copy at the provider stays.', 'scheduled-snapshots' ), true ),
			'snapshot-record-deleted' => array( 'success', __( 'Snapshot record deleted from the list. Nothing was deleted at the provider.', 'scheduled-snapshots' ), true ),
			'snapshot-updated'        => array( 'success', __( 'Snapshot updated.', 'scheduled-snapshots' ) ),
			'snapshot-requested'      => array( 'success', __( 'Snapshot requested: it is in the Snapshots list now and becomes available when the provider has finished.', 'scheduled-snapshots' ) ),
			'server-schedules-saved'  => array( 'success', __( 'Snapshot schedules saved for this server.', 'scheduled-snapshots' ) ),
			'settings-saved'          => array( 'success', __( 'Settings saved.', 'scheduled-snapshots' ) ),
			'settings-invalid-url'    => array( 'error', __( 'Settings not saved: the snapshot service address must be an http:// or https:// URL such as http://127.0.0.1:8787.', 'scheduled-snapshots' ) ),
			'panel-not-recorded'      => array( 'error', __( 'The host took a snapshot, but it could not be added to the Snapshots list.', 'scheduled-snapshots' ) ),
			'error'                   => array( 'error', __( 'That did not work.', 'scheduled-snapshots' ), true ),
		);
	}

	/**
	 * URL with the message code (and a detail sentence kept server-side).
	 */
	public static function url( string $url, string $code, ?int $count = null, ?string $detail = null ): string {
		$args = array( self::ARG_CODE => $code );
		if ( null !== $count ) {
			$args[ self::ARG_COUNT ] = $count;
		}
		if ( null !== $detail && '' !== $detail ) {
			$args[ self::ARG_DETAIL ] = self::keep_detail( $detail );
		}
		return add_query_arg( $args, $url );
	}

	/**
	 * URL that shows a WP_Error's sentence as an error notice.
	 */
	public static function error_url( string $url, WP_Error $error ): string {
		return self::url( $url, 'error', null, $error->get_error_message() );
	}

	private static function keep_detail( string $detail ): string {
		$key = strtolower( wp_generate_password( 12, false ) );
		set_transient( self::transient( $key ), $detail, 10 * MINUTE_IN_SECONDS );
		return $key;
	}

	private static function take_detail( string $key ): string {
		if ( ! preg_match( '/^[a-z0-9]{12}$/', $key ) ) {
			return '';
		}
		$detail = get_transient( self::transient( $key ) );
		delete_transient( self::transient( $key ) );
		return is_string( $detail ) ? $detail : '';
	}

	private static function transient( string $key ): string {
		return 'ss_notice_' . get_current_user_id() . '_' . $key;
	}

	/**
	 * A notice that waits for the user's next admin page (used where no redirect of ours
	 * happens, e.g. the host's backup-tab hook).
	 */
	public static function queue_for_user( int $user_id, string $code, string $detail ): void {
		if ( $user_id <= 0 ) {
			return;
		}
		$queue   = get_user_meta( $user_id, 'ss_queued_notices', true );
		$queue   = is_array( $queue ) ? array_slice( $queue, -4 ) : array();
		$queue[] = array(
			'code'   => $code,
			'detail' => $detail,
		);
		update_user_meta( $user_id, 'ss_queued_notices', $queue );
	}

	/**
	 * admin_notices: our screens and the host's server screens.
	 */
	public static function render(): void {
		if ( ! Admin_Menu::is_plugin_screen() && ! Server_Metabox::is_server_screen() ) {
			return;
		}
		self::render_queued();
		self::print_notice_from_request();
	}

	/**
	 * The notice for ?ss_message=… (and its detail, which is then forgotten: shown once).
	 */
	public static function print_notice_from_request(): void {
		if ( empty( $_GET[ self::ARG_CODE ] ) ) { // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- display only
			return;
		}
		$code   = sanitize_key( wp_unslash( $_GET[ self::ARG_CODE ] ) ); // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		$count  = isset( $_GET[ self::ARG_COUNT ] ) ? absint( $_GET[ self::ARG_COUNT ] ) : 0; // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		$detail = isset( $_GET[ self::ARG_DETAIL ] ) ? self::take_detail( sanitize_key( wp_unslash( $_GET[ self::ARG_DETAIL ] ) ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		self::print_notice( $code, $count, $detail );
	}

	private static function render_queued(): void {
		$user  = get_current_user_id();
		$queue = get_user_meta( $user, 'ss_queued_notices', true );
		if ( ! is_array( $queue ) || ! $queue ) {
			return;
		}
		delete_user_meta( $user, 'ss_queued_notices' );
		foreach ( $queue as $item ) {
			if ( is_array( $item ) && isset( $item['code'], $item['detail'] ) && is_string( $item['code'] ) && is_string( $item['detail'] ) ) {
				self::print_notice( $item['code'], 0, $item['detail'] );
			}
		}
	}

	public static function print_notice( string $code, int $count = 0, string $detail = '' ): void {
		$messages = self::messages();
		if ( ! isset( $messages[ $code ] ) ) {
			return;
		}
		$type    = $messages[ $code ][0];
		$text    = $messages[ $code ][1];
		$replace = ! empty( $messages[ $code ][2] );
		if ( false !== strpos( $text, '%d' ) ) {
			$text = sprintf( $text, $count );
		}
		if ( '' !== $detail ) {
			$text = $replace ? $detail : $text . ' ' . $detail;
		}
		self::print_box( $type, $text, 'ss-notice-' . $code );
	}

	/**
	 * One escaped admin notice.
	 */
	public static function print_box( string $type, string $text, string $id = '' ): void {
		printf(
			'<div class="notice notice-%1$s is-dismissible ss-notice"%3$s><p>%2$s</p></div>',
			esc_attr( $type ),
			esc_html( $text ),
			'' === $id ? '' : ' id="' . esc_attr( $id ) . '"'
		);
	}

	/**
	 * An inline (non-dismissible) notice, e.g. "the sidecar is not answering" on a screen.
	 */
	public static function print_inline_error( WP_Error $error ): void {
		printf(
			'<div class="notice notice-error inline ss-service-error" data-ss-error="%1$s"><p>%2$s</p></div>',
			esc_attr( (string) $error->get_error_code() ),
			esc_html( $error->get_error_message() )
		);
	}
}
