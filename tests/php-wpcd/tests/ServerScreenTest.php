<?php
namespace ScheduledSnapshots\Tests;

/**
 * Our Snapshots box on WPCloudDeploy's own server screen (post.php for wpcd_app_server).
 */
final class ServerScreenTest extends Wpcd_Test_Case {

	public function test_the_snapshots_box_is_added_to_wpcds_server_screen_and_draws_the_sidecars_box(): void {
		global $wp_meta_boxes;
		$this->login_as( 'administrator' );
		$server = $this->wpcd_server( 3164446, 'shop-1' );
		$sidecar = $this->fake_sidecar()->on( 'GET', '#^/ui/v1/server-box$#', array( 'raw' => '<div class="ss-server-box" id="ss-box">Schedules for this server</div>', 'type' => 'text/html' ) );
		set_current_screen( 'wpcd_app_server' );
		$post = get_post( $server );

		do_action( 'add_meta_boxes', 'wpcd_app_server', $post );
		do_action( 'add_meta_boxes_wpcd_app_server', $post );

		// Beside WPCD's Update button (side column, high), not under its tall tabbed box.
		$ours = $wp_meta_boxes['wpcd_app_server']['side']['high']['ss-server-snapshots'] ?? null;
		$this->assertNotNull( $ours, "our box sits in the side column, high, among WPCD's boxes on its server screen" );
		$html = $this->render( static function () use ( $ours, $post ) { call_user_func( $ours['callback'], $post, $ours ); } );
		$this->assertStringContainsString( 'Schedules for this server', $html );
		$ctx = json_decode( $this->query_args( $sidecar->requests_to( '/ui/v1/server-box' )[0]['url'] )['ctx'], true );
		$this->assertSame( $server, $ctx['serverId'] );
	}

	public function test_wpcds_backup_tab_offers_take_snapshot_now_after_its_own_fields(): void {
		$this->login_as( 'administrator' );
		$server = $this->wpcd_server( 3164449, 'shop-2' );

		$fields = apply_filters( 'wpcd_server_wordpress-app_get_tabs', array(), $server );

		$backup = array_values( array_filter( $fields, static function ( $f ) { return is_array( $f ) && 'server_backup' === ( $f['tab'] ?? '' ); } ) );
		$this->assertGreaterThan( 1, count( $backup ), "WPCD's own Backup tab fields" );
		$card = end( $backup );
		$this->assertSame( 'ss_backup_tab_snapshots', $card['id'], "ours is the Backup tab's last field" );
		$this->assertStringContainsString( 'form="ss-take-snapshot-form"', $card['std'] );
	}
}
