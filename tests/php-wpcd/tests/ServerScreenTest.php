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

		$ours = null;
		foreach ( $wp_meta_boxes['wpcd_app_server'] ?? array() as $context => $priorities ) {
			foreach ( $priorities as $boxes ) {
				if ( isset( $boxes['ss-server-snapshots'] ) && $boxes['ss-server-snapshots'] ) {
					$ours = $boxes['ss-server-snapshots'];
				}
			}
		}
		$this->assertNotNull( $ours, "our box is among WPCD's boxes on its server screen" );
		$html = $this->render( static function () use ( $ours, $post ) { call_user_func( $ours['callback'], $post, $ours ); } );
		$this->assertStringContainsString( 'Schedules for this server', $html );
		$ctx = json_decode( $this->query_args( $sidecar->requests_to( '/ui/v1/server-box' )[0]['url'] )['ctx'], true );
		$this->assertSame( $server, $ctx['serverId'] );
	}
}
