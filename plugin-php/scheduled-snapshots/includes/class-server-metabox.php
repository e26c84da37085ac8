<?php
/**
 * The "Snapshots" box on the host's server edit screen (drawn by the sidecar), saved by the
 * host's own Update button, and the hidden form "Take snapshot now" submits.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

use WP_Post;

defined( 'ABSPATH' ) || exit;

final class Server_Metabox {

	const BOX_ID = 'ss-server-snapshots';

	/** @var array<int,true|\WP_Error> post id → outcome of the last save in this request */
	private static $saved = array();

	public static function is_server_screen(): bool {
		$screen = function_exists( 'get_current_screen' ) ? get_current_screen() : null;
		return $screen && 'post' === $screen->base && Config::host_post_type() === $screen->post_type;
	}

	/** Beside the host's Update button (side, high), not below its tall tabbed box. @param mixed $post_type @param mixed $post */
	public static function on_add_meta_boxes( $post_type, $post = null ): void {
		if ( Config::host_post_type() === $post_type && Config::can_manage_snapshots() && ( ! $post instanceof WP_Post || 'auto-draft' === $post->post_status || Config::can_manage_server( $post->ID ) ) ) {
			add_meta_box( self::BOX_ID, __( 'Snapshots', 'scheduled-snapshots' ), array( Screens::class, 'render_server_box' ), Config::host_post_type(), 'side', 'high' );
		}
	}

	/** WPCD's Backup tab (Meta Box tabs, filter wpcd_server_wordpress-app_get_tabs): a card pointing at the box, with "Take snapshot now". @param mixed $fields @param mixed $id */
	public static function backup_tab_fields( $fields, $id ) {
		if ( ! is_array( $fields ) || ! is_numeric( $id ) || ! Config::can_manage_snapshots() || ! Config::can_manage_server( (int) $id ) ) {
			return $fields;
		}
		$html     = '<p>' . esc_html__( 'Schedules and the last snapshot of this server are in the Snapshots box beside the Update button.', 'scheduled-snapshots' ) . '</p><p><button type="submit" class="button" id="ss-backup-tab-take" form="ss-take-snapshot-form">' . esc_html__( 'Take snapshot now', 'scheduled-snapshots' ) . '</button> <a href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SNAPSHOTS, array( 'serverId' => (int) $id ) ) ) . '">' . esc_html__( "View this server's snapshots", 'scheduled-snapshots' ) . '</a></p>';
		$fields[] = array( 'id' => 'ss_backup_tab_snapshots', 'tab' => 'server_backup', 'type' => 'custom_html', 'name' => __( 'Scheduled Snapshots', 'scheduled-snapshots' ), 'std' => $html );
		return $fields;
	}

	/** save_post: the host's Update button saves the box's checkboxes too. @param mixed $post_id @param mixed $post */
	public static function on_save_post( $post_id, $post ): void {
		if ( ! $post instanceof WP_Post || Config::host_post_type() !== $post->post_type ) {
			return;
		}
		$post_id = (int) $post_id;
		if ( ( defined( 'DOING_AUTOSAVE' ) && DOING_AUTOSAVE ) || wp_is_post_revision( $post_id ) || wp_is_post_autosave( $post_id ) ) {
			return;
		}
		// phpcs:disable WordPress.Security.NonceVerification.Missing -- this is the nonce check
		if ( ! isset( $_POST['ss_server_schedules_nonce'] ) || ! wp_verify_nonce( sanitize_key( wp_unslash( $_POST['ss_server_schedules_nonce'] ) ), 'ss_server_schedules' ) ) {
			return;
		}
		// No "present" marker: the box could not be drawn, so Update must not clear the schedules.
		if ( ! Config::can_manage_snapshots() || ! Config::can_manage_server( $post_id ) || empty( $_POST['ss_server_schedules_present'] ) ) {
			return;
		}
		$raw = isset( $_POST['ss_schedule_ids'] ) && is_array( $_POST['ss_schedule_ids'] ) ? wp_unslash( $_POST['ss_schedule_ids'] ) : array();
		// phpcs:enable
		$ids    = array_values( array_unique( array_filter( array_map( 'absint', $raw ) ) ) );
		$answer = Sidecar_Client::from_config()->request( 'PUT', '/api/v1/servers/' . $post_id . '/schedules', array(), array( 'scheduleIds' => $ids ) );
		self::$saved[ $post_id ] = is_wp_error( $answer ) ? $answer : true;
	}

	/** redirect_post_location: say on the reloaded server screen whether the schedules saved. */
	public static function redirect_location( string $location, int $post_id ): string {
		if ( ! isset( self::$saved[ $post_id ] ) ) {
			return $location;
		}
		$outcome = self::$saved[ $post_id ];
		unset( self::$saved[ $post_id ] );
		return true === $outcome ? Notices::url( $location, 'server-schedules-saved' ) : Notices::error_url( $location, $outcome );
	}

	/** admin_footer: the form "Take snapshot now" submits (forms cannot nest in the post form). */
	public static function print_take_snapshot_form(): void {
		$post = self::is_server_screen() && Config::can_manage_snapshots() ? get_post() : null;
		if ( ! $post || 'auto-draft' === $post->post_status ) {
			return;
		}
		echo '<form id="ss-take-snapshot-form" method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" hidden>';
		echo '<input type="hidden" name="action" value="ss_take_snapshot" /><input type="hidden" name="server" value="' . esc_attr( (string) $post->ID ) . '" />';
		wp_nonce_field( 'ss_take_snapshot' );
		echo '</form>';
	}
}
