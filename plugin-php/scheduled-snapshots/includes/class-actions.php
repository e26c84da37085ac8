<?php
/**
 * admin-post.php handlers. Each: capability (403) → nonce for the action (403) → forward to
 * the sidecar → redirect with a message code. What the answer means is the sidecar's to say.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Actions {

	const HANDLERS = array(
		'ss_save_schedule'          => 'save_schedule',
		'ss_delete_schedule'        => 'delete_schedule',
		'ss_trash_snapshot'         => 'trash',
		'ss_delete_snapshot_record' => 'delete_record',
		'ss_bulk_snapshots'         => 'bulk',
		'ss_update_snapshot'        => 'update_snapshot',
		'ss_take_snapshot'          => 'take_snapshot',
		'ss_save_settings'          => 'save_settings',
		'ss_test_alerts'            => 'test_alerts',
	);

	public static function register(): void {
		foreach ( self::HANDLERS as $action => $method ) {
			add_action(
				'admin_post_' . $action,
				static function () use ( $action, $method ) {
					self::guard( $action );
					self::$method();
				}
			);
		}
		add_action( 'wp_ajax_ss_schedule_preview', array( self::class, 'ajax_preview' ) );
	}

	/** Server-scoped actions (then also checked per server); the others stay with administrators. */
	const SERVER_SCOPED = array( 'ss_trash_snapshot', 'ss_delete_snapshot_record', 'ss_bulk_snapshots', 'ss_update_snapshot', 'ss_take_snapshot' );

	/** Capability, then the nonce PHP gave the rendered form (dies with 403 when wrong). */
	public static function guard( string $action ): void {
		if ( ! current_user_can( in_array( $action, self::SERVER_SCOPED, true ) ? Config::snapshots_capability() : Config::required_capability() ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage snapshots.', 'scheduled-snapshots' ), esc_html__( 'Not allowed', 'scheduled-snapshots' ), array( 'response' => 403, 'back_link' => true ) );
		}
		check_admin_referer( $action, 'ss_bulk_snapshots' === $action ? 'ss_bulk_nonce' : '_wpnonce' );
	}

	/** Server-scoped actions: the user must also be allowed this very server (403 otherwise). */
	public static function guard_server( int $server_id ): void {
		if ( ! Config::can_manage_server( $server_id ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage the snapshots of this server.', 'scheduled-snapshots' ), esc_html__( 'Not allowed', 'scheduled-snapshots' ), array( 'response' => 403, 'back_link' => true ) );
		}
	}

	/** A snapshot id, once its server (asked of the sidecar) is allowed; when the sidecar is down, the action itself says so (to administrators). */
	public static function guard_snapshot( int $id ): int {
		$answer = Sidecar_Client::from_config()->get( '/api/v1/snapshots/' . $id );
		$server = is_array( $answer ) ? (int) ( $answer['snapshot']['serverId'] ?? 0 ) : 0;
		if ( $server > 0 || ! current_user_can( Config::required_capability() ) ) {
			self::guard_server( $server );
		}
		return $id;
	}

	/** A positive id from the request, or 0. */
	private static function id( string $key ): int {
		// phpcs:ignore WordPress.Security.NonceVerification -- verified in guard()
		$raw = isset( $_REQUEST[ $key ] ) && is_string( $_REQUEST[ $key ] ) ? wp_unslash( $_REQUEST[ $key ] ) : '';
		return preg_match( '/^[1-9]\d{0,14}$/', $raw ) ? (int) $raw : 0;
	}

	private static function redirect( string $url ): void {
		wp_safe_redirect( $url );
		exit;
	}

	private static function save_schedule(): void {
		// phpcs:disable WordPress.Security.NonceVerification.Missing -- verified in guard()
		$object = isset( $_POST['schedule'] ) && 'new' === $_POST['schedule'] ? 'new' : (string) self::id( 'schedule' );
		$values = isset( $_POST['ss_schedule'] ) && is_array( $_POST['ss_schedule'] ) ? wp_unslash( $_POST['ss_schedule'] ) : array();
		// phpcs:enable
		$form   = Admin_Menu::page_url( Admin_Menu::SCHEDULES, 'new' === $object ? array( 'view' => 'new' ) : array( 'view' => 'edit', 'schedule' => $object ) );
		$answer = Sidecar_Client::from_config()->post( '/ui/v1/forms/schedule', array( 'ctx' => Screens::context( 'schedule-form' ), 'schedule' => $object, 'values' => $values ) );
		if ( is_wp_error( $answer ) ) {
			Notices::keep_form_state( $object, $values, array() );
			self::redirect( Notices::error_url( $form, $answer ) );
		}
		if ( empty( $answer['saved'] ) ) {
			Notices::keep_form_state( $object, (array) ( $answer['values'] ?? $values ), (array) ( $answer['errors'] ?? array() ) );
			self::redirect( Notices::url( $form, 'schedule-invalid' ) );
		}
		self::redirect( Notices::url( Admin_Menu::page_url( Admin_Menu::SCHEDULES ), (string) $answer['code'] ) );
	}

	private static function delete_schedule(): void {
		$list   = Admin_Menu::page_url( Admin_Menu::SCHEDULES );
		$answer = Sidecar_Client::from_config()->delete( '/api/v1/schedules/' . self::id( 'schedule' ) );
		self::redirect( is_wp_error( $answer ) ? Notices::error_url( $list, $answer ) : Notices::url( $list, 'schedule-deleted', (int) ( $answer['snapshotsKept'] ?? 0 ) ) );
	}

	private static function trash(): void {
		$back   = self::list_url();
		$answer = Sidecar_Client::from_config()->delete( '/api/v1/snapshots/' . self::guard_snapshot( self::id( 'snapshot' ) ) );
		// The service's sentence (what happened, which provider, why) goes along; the views word it.
		self::redirect( is_wp_error( $answer ) ? Notices::error_url( $back, $answer ) : Notices::url( $back, 'snapshot-' . self::trash_outcome( $answer ), null, (string) ( $answer['message'] ?? '' ) ) );
	}

	/** DELETE's answer → trashed, record-only (provider copy stays), trash-failed or trash-pending. */
	public static function trash_outcome( array $answer ): string {
		if ( ! empty( $answer['deleted'] ) ) {
			return empty( $answer['providerCopyKept'] ) ? 'trashed' : 'record-only';
		}
		return 'delete_failed' === ( $answer['snapshot']['status'] ?? '' ) ? 'trash-failed' : 'trash-pending';
	}

	private static function delete_record(): void {
		$back   = self::list_url();
		$answer = Sidecar_Client::from_config()->delete( '/api/v1/snapshots/' . self::guard_snapshot( self::id( 'snapshot' ) ) . '/record' );
		self::redirect( is_wp_error( $answer ) ? Notices::error_url( $back, $answer ) : Notices::url( $back, 'snapshot-record-deleted', null, (string) ( $answer['message'] ?? '' ) ) );
	}

	/** Bulk Trash / Delete Record: one request for the ticked rows; each row's outcome is reported. */
	private static function bulk(): void {
		// phpcs:disable WordPress.Security.NonceVerification.Missing -- verified in guard()
		$what = isset( $_POST['bulk_action'] ) && in_array( $_POST['bulk_action'], array( 'trash', 'delete_record' ), true ) ? sanitize_key( $_POST['bulk_action'] ) : '';
		$ids  = isset( $_POST['snapshots'] ) && is_array( $_POST['snapshots'] ) ? array_values( array_filter( array_map( 'absint', wp_unslash( $_POST['snapshots'] ) ) ) ) : array();
		// phpcs:enable
		$back = self::list_url();
		if ( '' === $what || ! $ids ) {
			self::redirect( Notices::url( $back, 'bulk-none' ) );
		}
		$ids    = array_map( static fn( $id ) => self::guard_snapshot( $id ), array_slice( $ids, 0, 200 ) );
		$answer = Sidecar_Client::from_config()->post( '/api/v1/snapshots/bulk', array( 'action' => $what, 'ids' => $ids ) );
		self::redirect( is_wp_error( $answer ) ? Notices::error_url( $back, $answer ) : Notices::url( $back, 'bulk-done', null, (array) ( $answer['results'] ?? array() ) ) );
	}

	private static function update_snapshot(): void {
		$id   = self::guard_snapshot( self::id( 'snapshot' ) );
		$edit = Admin_Menu::page_url( Admin_Menu::SNAPSHOTS, array( 'view' => 'edit', 'snapshot' => $id ) );
		// phpcs:disable WordPress.Security.NonceVerification.Missing -- verified in guard()
		$date = isset( $_POST['deleteNotBefore'] ) ? sanitize_text_field( wp_unslash( $_POST['deleteNotBefore'] ) ) : '';
		$note = isset( $_POST['note'] ) && is_string( $_POST['note'] ) ? trim( wp_check_invalid_utf8( wp_unslash( $_POST['note'] ), true ) ) : '';
		$body = array(
			'keepForever'     => ! empty( $_POST['keepForever'] ),
			// The end of that day in the site's timezone: the whole day is protected.
			'deleteNotBefore' => '' === $date ? null : self::end_of_site_day_utc( $date ),
			'note'            => '' === $note ? null : $note,
		);
		// phpcs:enable
		if ( '' !== $date && null === $body['deleteNotBefore'] ) {
			$body['deleteNotBefore'] = $date; // Not a date: the sidecar says so in words.
		}
		$answer = Sidecar_Client::from_config()->request( 'PATCH', '/api/v1/snapshots/' . $id, array(), $body );
		self::redirect( is_wp_error( $answer ) ? Notices::error_url( $edit, $answer ) : Notices::url( $edit, 'snapshot-updated' ) );
	}

	/** "2026-12-31" in the site's timezone → the last moment of that day in UTC, or null. */
	public static function end_of_site_day_utc( string $date ): ?string {
		if ( ! preg_match( '/^(\d{4})-(\d{2})-(\d{2})$/', $date, $m ) || ! checkdate( (int) $m[2], (int) $m[3], (int) $m[1] ) ) {
			return null;
		}
		$local = date_create_immutable( $date . ' 23:59:59', wp_timezone() );
		return $local ? $local->setTimezone( new \DateTimeZone( 'UTC' ) )->format( 'Y-m-d\TH:i:s.999\Z' ) : null;
	}

	private static function take_snapshot(): void {
		$server_id = self::id( 'server' );
		$post      = $server_id ? get_post( $server_id ) : null;
		if ( ! $post || Config::host_post_type() !== $post->post_type ) {
			wp_die( esc_html__( 'That server does not exist.', 'scheduled-snapshots' ), 404 );
		}
		self::guard_server( $server_id );
		$back   = admin_url( 'post.php?post=' . $server_id . '&action=edit' );
		$answer = Sidecar_Client::from_config()->post( '/api/v1/servers/' . $server_id . '/snapshots', array() );
		self::redirect( is_wp_error( $answer ) ? Notices::error_url( $back, $answer ) : Notices::url( $back, 'snapshot-requested' ) );
	}

	/** The sidecar's address is WordPress's own option: saved here, checked on the next render. */
	private static function save_settings(): void {
		$back = Admin_Menu::page_url( Admin_Menu::SETTINGS );
		if ( Config::sidecar_url_is_locked() ) {
			self::redirect( $back );
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- verified in guard()
		$url = isset( $_POST['ss_sidecar_url'] ) ? trim( sanitize_text_field( wp_unslash( $_POST['ss_sidecar_url'] ) ) ) : '';
		$clean = '' === $url ? '' : untrailingslashit( esc_url_raw( $url, array( 'http', 'https' ) ) );
		if ( '' !== $url && ( '' === $clean || ! Config::is_valid_sidecar_url( $clean ) ) ) {
			self::redirect( Notices::url( $back, 'settings-invalid-url' ) );
		}
		Config::save_sidecar_url( $clean );
		self::redirect( Notices::url( $back, 'settings-saved' ) );
	}

	/** Settings → "Send test message": every channel's outcome comes back as the notice. */
	private static function test_alerts(): void {
		$back   = Admin_Menu::page_url( Admin_Menu::SETTINGS );
		$answer = Sidecar_Client::from_config()->post( '/api/v1/alerts/test' );
		if ( is_wp_error( $answer ) ) {
			self::redirect( Notices::error_url( $back, $answer ) );
		}
		$lines = array_map( static function ( $r ) { return (string) ( $r['message'] ?? '' ); }, (array) ( $answer['results'] ?? array() ) );
		self::redirect( Notices::url( $back, empty( $answer['ok'] ) ? 'alerts-test-failed' : 'alerts-test-sent', null, implode( ' ', $lines ) ) );
	}

	/** admin-ajax: the schedule form's live preview, answered by the sidecar in the user's language. */
	public static function ajax_preview(): void {
		if ( ! current_user_can( Config::required_capability() ) ) {
			wp_send_json_error( null, 403 );
		}
		check_ajax_referer( 'ss_schedule_preview' );
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- verified above
		$values = isset( $_POST['ss_schedule'] ) && is_array( $_POST['ss_schedule'] ) ? wp_unslash( $_POST['ss_schedule'] ) : array();
		$answer = Sidecar_Client::from_config()->post( '/ui/v1/forms/schedule-preview', array( 'ctx' => Screens::context( 'schedule-form' ), 'values' => $values ) );
		if ( is_wp_error( $answer ) ) {
			wp_send_json_success( array( 'nextRuns' => array(), 'retentionSummary' => '', 'fields' => (object) array(), 'message' => $answer->get_error_message() ) );
		}
		wp_send_json_success( $answer );
	}

	/** Back to the list the user came from (its filters and page), else the plain list. */
	private static function list_url(): string {
		$referer = wp_get_referer();
		if ( is_string( $referer ) && false !== strpos( $referer, 'page=' . Admin_Menu::SNAPSHOTS ) && false === strpos( $referer, 'view=edit' ) ) {
			return remove_query_arg( array( Notices::ARG_CODE, Notices::ARG_COUNT, Notices::ARG_DETAIL ), $referer );
		}
		return Admin_Menu::page_url( Admin_Menu::SNAPSHOTS );
	}
}
