<?php
/**
 * Snapshots the host panel takes from its backup tab enter our list (origin "panel").
 *
 * The host fires do_action( 'wpcd_server_wordpress-app_take_a_snapshot_action_successful',
 * $server_id, $action, $success, $result ) with $result['snapshot-id'] holding the provider's
 * id (for DigitalOcean an action id, which the sidecar resolves).
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Panel_Snapshots {

	const HOST_HOOK = 'wpcd_server_wordpress-app_take_a_snapshot_action_successful';

	/**
	 * @param mixed $server_id
	 * @param mixed $action
	 * @param mixed $success
	 * @param mixed $result
	 */
	public static function record( $server_id = 0, $action = '', $success = false, $result = array() ): void {
		if ( ! $success ) {
			return;
		}
		$server_id = is_numeric( $server_id ) ? (int) $server_id : 0;
		$snapshot  = ( is_array( $result ) || $result instanceof \ArrayAccess ) && isset( $result['snapshot-id'] ) ? $result['snapshot-id'] : null;
		$snapshot  = is_scalar( $snapshot ) ? trim( (string) $snapshot ) : '';
		if ( $server_id <= 0 || '' === $snapshot ) {
			return;
		}
		$answer = Sidecar_Client::from_config()->post(
			'/api/v1/panel-snapshots',
			array_filter(
				array(
					'serverId'           => $server_id,
					'providerSnapshotId' => $snapshot,
					'action'             => is_string( $action ) && '' !== $action ? substr( $action, 0, 100 ) : null,
				),
				static function ( $value ) {
					return null !== $value;
				}
			)
		);
		if ( is_wp_error( $answer ) ) {
			// No redirect of ours follows the host's action: tell the user on their next page.
			Notices::queue_for_user( get_current_user_id(), 'panel-not-recorded', $answer->get_error_message() );
			// Action ss_panel_snapshot_not_recorded( server id, provider's snapshot id, WP_Error ).
			do_action( 'ss_panel_snapshot_not_recorded', $server_id, $snapshot, $answer );
		}
	}
}
