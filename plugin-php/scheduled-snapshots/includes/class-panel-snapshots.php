<?php
/**
 * Snapshots the host panel takes from its backup tab enter our list (origin "panel").
 *
 * The host fires do_action( 'wpcd_server_wordpress-app_take_a_snapshot_action_successful',
 * $server_id, $action, $success, $result ) with $result['snapshot-id'] and
 * $result['snapshot-id-type'] (intermediate: DigitalOcean's action id, which the sidecar
 * resolves; else final). A snapshot taken while the sidecar is down is not lost: it waits in
 * a bounded option and is sent again on the next admin page or WP-Cron run (the sidecar
 * records a provider id once, so sending twice is harmless).
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Panel_Snapshots {

	const HOST_HOOK = 'wpcd_server_wordpress-app_take_a_snapshot_action_successful';
	const BACKLOG   = 'ss_panel_backlog';
	const RETRY     = 'ss_panel_backlog_retry';
	const MAX_KEPT  = 200;

	/** The host's hook (any argument may be anything). @param mixed $server_id @param mixed $action @param mixed $success @param mixed $result */
	public static function record( $server_id = 0, $action = '', $success = false, $result = array() ): void {
		$server_id = is_numeric( $server_id ) ? (int) $server_id : 0;
		$result    = is_array( $result ) || $result instanceof \ArrayAccess ? $result : array();
		$snapshot  = isset( $result['snapshot-id'] ) && is_scalar( $result['snapshot-id'] ) ? trim( (string) $result['snapshot-id'] ) : '';
		if ( ! $success || $server_id <= 0 || '' === $snapshot || Config::host_post_type() !== get_post_type( $server_id ) ) {
			return;
		}
		$type = $result['snapshot-id-type'] ?? null;
		$item = array_filter(
			array(
				'serverId'           => $server_id,
				'providerSnapshotId' => $snapshot,
				'idType'             => is_string( $type ) ? ( 'intermediate' === $type ? 'intermediate' : 'final' ) : null,
				'action'             => is_string( $action ) && '' !== $action ? substr( $action, 0, 100 ) : null,
				'actor'              => get_current_user_id() > 0 ? (string) get_current_user_id() : null,
			),
			static fn( $value ) => null !== $value
		);
		$error = self::send( $item );
		if ( null === $error ) {
			return;
		}
		// No redirect of ours follows the host's action: tell the user on their next page.
		if ( self::refused( $error ) ) {
			Notices::queue_for_user( get_current_user_id(), 'panel-not-recorded', $error->get_error_message() );
			// Action ss_panel_snapshot_not_recorded( server id, provider's snapshot id, WP_Error ).
			do_action( 'ss_panel_snapshot_not_recorded', $server_id, $snapshot, $error );
			return;
		}
		$backlog   = array_slice( self::backlog(), 1 - self::MAX_KEPT );
		$backlog[] = $item;
		update_option( self::BACKLOG, $backlog, false );
		wp_next_scheduled( self::RETRY ) || wp_schedule_single_event( time() + 5 * MINUTE_IN_SECONDS, self::RETRY );
		/* translators: 1: the provider's snapshot id, 2: why the snapshot service could not take it now */
		Notices::queue_for_user( get_current_user_id(), 'panel-queued', sprintf( __( 'Snapshot %1$s is kept and will be added to the Snapshots list when the snapshot service answers again. %2$s', 'scheduled-snapshots' ), $snapshot, $error->get_error_message() ) );
	}

	/** Send what waits, oldest first, until the sidecar fails again (admin_init and WP-Cron). */
	public static function retry(): void {
		$backlog = self::backlog();
		if ( ! $backlog || get_transient( self::RETRY ) ) {
			return;
		}
		while ( $backlog ) {
			$error = self::send( $backlog[0] );
			if ( null !== $error && ! self::refused( $error ) ) {
				// Still down: try again in a minute, not on every page of it.
				set_transient( self::RETRY, 1, MINUTE_IN_SECONDS );
				wp_next_scheduled( self::RETRY ) || wp_schedule_single_event( time() + 5 * MINUTE_IN_SECONDS, self::RETRY );
				break;
			}
			if ( null !== $error ) {
				do_action( 'ss_panel_snapshot_not_recorded', (int) $backlog[0]['serverId'], (string) $backlog[0]['providerSnapshotId'], $error );
			}
			array_shift( $backlog );
			update_option( self::BACKLOG, $backlog, false );
		}
	}

	/** The snapshots still waiting for the sidecar. */
	public static function backlog(): array {
		return array_values( array_filter( (array) get_option( self::BACKLOG, array() ), 'is_array' ) );
	}

	private static function send( array $item ): ?\WP_Error {
		$answer = Sidecar_Client::from_config()->request( 'POST', '/api/v1/panel-snapshots', array(), array_diff_key( $item, array( 'actor' => 1 ) ), $item['actor'] ?? null );
		return is_wp_error( $answer ) ? $answer : null;
	}

	/** The sidecar answered and said no (unknown server, no provider): sending again would not help. */
	private static function refused( \WP_Error $error ): bool {
		$status = (int) ( $error->get_error_data()['status'] ?? 0 );
		return 'ss_api_error' === $error->get_error_code() && $status >= 400 && $status < 500 && 429 !== $status;
	}
}
