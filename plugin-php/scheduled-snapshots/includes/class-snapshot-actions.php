<?php
/**
 * admin-post handlers for one snapshot: Trash, Delete Record, Update (protection and note).
 * Each: capability → nonce bound to the snapshot id → API call → redirect with a code.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Snapshot_Actions {

	/** admin-post.php?action=ss_trash_snapshot&snapshot=ID (row action link). */
	public static function trash(): void {
		Admin_Action::require_capability();
		$id = Admin_Action::request_id( 'snapshot' );
		Admin_Action::require_nonce( 'ss_trash_snapshot', (string) $id );
		if ( null === $id ) {
			wp_die( esc_html__( 'That snapshot id is not valid.', 'scheduled-snapshots' ), 400 );
		}
		$answer = Sidecar_Client::from_config()->delete( '/api/v1/snapshots/' . rawurlencode( $id ) );
		$back   = self::list_url();
		if ( is_wp_error( $answer ) ) {
			Admin_Action::redirect( Notices::error_url( $back, $answer ) );
		}
		Admin_Action::redirect( Notices::url( $back, self::trash_outcome( $answer ), null, Api_Shapes::str( $answer['message'] ?? '' ) ) );
	}

	/** admin-post.php?action=ss_delete_snapshot_record&snapshot=ID. */
	public static function delete_record(): void {
		Admin_Action::require_capability();
		$id = Admin_Action::request_id( 'snapshot' );
		Admin_Action::require_nonce( 'ss_delete_snapshot_record', (string) $id );
		if ( null === $id ) {
			wp_die( esc_html__( 'That snapshot id is not valid.', 'scheduled-snapshots' ), 400 );
		}
		$answer = Sidecar_Client::from_config()->delete( '/api/v1/snapshots/' . rawurlencode( $id ) . '/record' );
		$back   = self::list_url();
		if ( is_wp_error( $answer ) ) {
			Admin_Action::redirect( Notices::error_url( $back, $answer ) );
		}
		Admin_Action::redirect( Notices::url( $back, 'snapshot-record-deleted', null, Api_Shapes::str( $answer['message'] ?? '' ) ) );
	}

	/**
	 * The answer to DELETE /snapshots/:id → message code. Deleted with the provider copy kept
	 * (the provider cannot delete), deleted for good, failed at the provider, or under way.
	 */
	public static function trash_outcome( array $answer ): string {
		if ( ! empty( $answer['deleted'] ) ) {
			return ! empty( $answer['providerCopyKept'] ) ? 'snapshot-record-only' : 'snapshot-trashed';
		}
		$snapshot = Api_Shapes::snapshot( $answer['snapshot'] ?? null );
		if ( null !== $snapshot && 'delete_failed' === $snapshot['status'] ) {
			return 'snapshot-trash-failed';
		}
		return 'snapshot-trash-pending';
	}

	/** admin-post.php, POST action=ss_update_snapshot: keepForever, deleteNotBefore, note. */
	public static function update(): void {
		Admin_Action::require_capability();
		$id = Admin_Action::request_id( 'snapshot' );
		Admin_Action::require_nonce( 'ss_update_snapshot', (string) $id );
		if ( null === $id ) {
			wp_die( esc_html__( 'That snapshot id is not valid.', 'scheduled-snapshots' ), 400 );
		}
		$edit = Snapshots_Screen::edit_url( $id );

		// phpcs:disable WordPress.Security.NonceVerification.Missing -- verified above
		$date = isset( $_POST['deleteNotBefore'] ) ? sanitize_text_field( wp_unslash( $_POST['deleteNotBefore'] ) ) : '';
		$note = isset( $_POST['note'] ) ? Admin_Action::plain_text( wp_unslash( $_POST['note'] ), true, 2000 ) : '';
		$keep = ! empty( $_POST['keepForever'] );
		// phpcs:enable

		$not_before = null;
		if ( '' !== $date ) {
			$not_before = self::end_of_site_day_utc( $date );
			if ( null === $not_before ) {
				Admin_Action::redirect( Notices::url( $edit, 'error', null, __( 'The “Do not delete before” date is not a date: use the date picker, or YYYY-MM-DD.', 'scheduled-snapshots' ) ) );
			}
		}

		$answer = Sidecar_Client::from_config()->patch(
			'/api/v1/snapshots/' . rawurlencode( $id ),
			array(
				'keepForever'     => $keep,
				'deleteNotBefore' => $not_before,
				'note'            => '' === $note ? null : $note,
			)
		);
		if ( is_wp_error( $answer ) ) {
			Admin_Action::redirect( Notices::error_url( $edit, $answer ) );
		}
		Admin_Action::redirect( Notices::url( $edit, 'snapshot-updated' ) );
	}

	/**
	 * "2026-12-31" in the site's timezone → the last moment of that day, in UTC ISO
	 * (e.g. "2026-12-31T22:59:59.999Z" for Europe/Berlin): the whole day is protected.
	 */
	public static function end_of_site_day_utc( string $date ): ?string {
		if ( ! preg_match( '/^(\d{4})-(\d{2})-(\d{2})$/', $date, $m ) || ! checkdate( (int) $m[2], (int) $m[3], (int) $m[1] ) ) {
			return null;
		}
		$local = date_create_immutable( $date . ' 23:59:59', wp_timezone() );
		if ( ! $local ) {
			return null;
		}
		return $local->setTimezone( new \DateTimeZone( 'UTC' ) )->format( 'Y-m-d\TH:i:s.999\Z' );
	}

	/**
	 * Back to the list the user came from (its filters and page), else the plain list.
	 */
	private static function list_url(): string {
		$list    = Admin_Menu::page_url( Admin_Menu::SNAPSHOTS );
		$referer = wp_get_referer();
		if ( is_string( $referer ) && false !== strpos( $referer, 'page=' . Admin_Menu::SNAPSHOTS ) && false === strpos( $referer, 'view=edit' ) ) {
			return remove_query_arg( array( Notices::ARG_CODE, Notices::ARG_COUNT, Notices::ARG_DETAIL ), $referer );
		}
		return $list;
	}
}
