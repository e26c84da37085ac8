<?php
namespace ScheduledSnapshots\Tests;

use ScheduledSnapshots\Screens;
use ScheduledSnapshots\Server_Metabox;

final class ServerMetaboxTest extends Test_Case {

	public function test_the_snapshots_box_sits_beside_the_update_button_on_the_host_server_screen_for_admins(): void {
		global $wp_meta_boxes;
		$wp_meta_boxes = array();
		$this->login_as( 'administrator' );
		$server = get_post( $this->make_server() );

		do_action( 'add_meta_boxes', 'wpcd_app_server', $server );

		$this->assertArrayHasKey( 'ss-server-snapshots', $wp_meta_boxes['wpcd_app_server']['side']['high'] );
		$this->assertSame( 'Snapshots', $wp_meta_boxes['wpcd_app_server']['side']['high']['ss-server-snapshots']['title'] );
		$this->assertArrayNotHasKey( 'ss-server-snapshots', $wp_meta_boxes['wpcd_app_server']['normal']['default'] ?? array() );
	}

	public function test_the_snapshots_box_is_not_offered_to_users_without_the_capability(): void {
		global $wp_meta_boxes;
		$wp_meta_boxes = array();
		$this->login_as( 'editor' );
		$server = get_post( $this->make_server() );

		do_action( 'add_meta_boxes', 'wpcd_app_server', $server );

		$this->assertArrayNotHasKey( 'ss-server-snapshots', $wp_meta_boxes['wpcd_app_server']['side']['high'] ?? array() );
	}

	public function test_the_box_is_one_signed_request_for_this_server_printed_as_the_sidecar_drew_it(): void {
		$this->login_as( 'administrator' );
		$id      = $this->make_server();
		$sidecar = $this->fake_sidecar()->on( 'GET', '#^/ui/v1/server-box$#', array( 'raw' => '<div class="ss-server-box">box</div>', 'type' => 'text/html' ) );

		$html = $this->render(
			static function () use ( $id ) {
				Screens::render_server_box( get_post( $id ) );
			}
		);

		$this->assertSame( '<div class="ss-server-box">box</div>', $html );
		$this->assertCount( 1, $sidecar->requests );
		parse_str( (string) wp_parse_url( $sidecar->requests[0]['url'], PHP_URL_QUERY ), $query );
		$ctx = json_decode( $query['ctx'], true );
		$this->assertSame( $id, $ctx['serverId'] );
		$this->assertSame( 1, wp_verify_nonce( $ctx['nonces']['ss_server_schedules'], 'ss_server_schedules' ) );
	}

	public function test_when_the_sidecar_is_down_then_the_box_says_so_and_update_cannot_clear_the_schedules(): void {
		$this->login_as( 'administrator' );
		$id = $this->make_server();

		$html = $this->render(
			static function () use ( $id ) {
				Screens::render_server_box( get_post( $id ) );
			}
		);

		$this->assertStringContainsString( 'is not answering', $html );
		$this->assertStringNotContainsString( 'ss_server_schedules_present', $html );
		$this->assertStringNotContainsString( 'ss_server_schedules_nonce', $html );
	}

	private function post_update( int $id, array $fields ): void {
		$_POST = array_merge(
			array(
				'post_ID'     => $id,
				'post_type'   => 'wpcd_app_server',
				'post_title'  => 'web-1',
				'post_status' => 'private',
			),
			$fields
		);
		$_REQUEST = $_POST;
		wp_update_post(
			array(
				'ID'         => $id,
				'post_title' => 'web-1',
			)
		);
	}

	public function test_when_update_is_clicked_then_the_ticked_schedules_are_saved_with_a_signed_put(): void {
		$user    = $this->login_as( 'administrator' );
		$id      = $this->make_server();
		$sidecar = $this->fake_sidecar()->on( 'PUT', '#^/api/v1/servers/' . $id . '/schedules$#', array( 200, array( 'serverId' => $id, 'scheduleIds' => array( 3, 4 ) ) ) );

		$this->post_update(
			$id,
			array(
				'ss_server_schedules_nonce'   => wp_create_nonce( 'ss_server_schedules' ),
				'ss_server_schedules_present' => '1',
				'ss_schedule_ids'             => array( '3', '4', '3', 'x;drop' ),
			)
		);

		$puts = $sidecar->requests_to( '/api/v1/servers/' . $id . '/schedules', 'PUT' );
		$this->assertCount( 1, $puts );
		$this->assertSame( array( 'scheduleIds' => array( 3, 4 ) ), json_decode( $puts[0]['body'], true ) );
		$this->assertSame( (string) $user, $puts[0]['headers']['X-SS-Actor'] );
		$this->assertTrue( Fake_Sidecar::signature_is_valid( $puts[0], SS_SHARED_SECRET ) );
		$this->assertStringContainsString( 'ss_message=server-schedules-saved', apply_filters( 'redirect_post_location', admin_url( 'post.php?post=' . $id . '&action=edit' ), $id ) );
	}

	public function test_when_every_box_is_unticked_then_an_empty_list_is_saved(): void {
		$this->login_as( 'administrator' );
		$id      = $this->make_server();
		$sidecar = $this->fake_sidecar()->on( 'PUT', '#^/api/v1/servers/' . $id . '/schedules$#', array( 200, array( 'scheduleIds' => array() ) ) );

		$this->post_update(
			$id,
			array(
				'ss_server_schedules_nonce'   => wp_create_nonce( 'ss_server_schedules' ),
				'ss_server_schedules_present' => '1',
			)
		);

		$this->assertSame( '{"scheduleIds":[]}', $sidecar->requests_to( '/api/v1/servers/' . $id . '/schedules', 'PUT' )[0]['body'] );
	}

	public function test_when_the_nonce_is_missing_or_wrong_then_nothing_is_saved(): void {
		$this->login_as( 'administrator' );
		$id      = $this->make_server();
		$sidecar = $this->fake_sidecar();

		$this->post_update( $id, array( 'ss_server_schedules_present' => '1', 'ss_schedule_ids' => array( '3' ) ) );
		$this->post_update( $id, array( 'ss_server_schedules_nonce' => wp_create_nonce( 'ss_take_snapshot' ), 'ss_server_schedules_present' => '1', 'ss_schedule_ids' => array( '3' ) ) );

		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_when_the_user_lacks_the_capability_then_nothing_is_saved(): void {
		$this->login_as( 'editor' );
		$id      = $this->make_server();
		$sidecar = $this->fake_sidecar();

		$this->post_update( $id, array( 'ss_server_schedules_nonce' => wp_create_nonce( 'ss_server_schedules' ), 'ss_server_schedules_present' => '1', 'ss_schedule_ids' => array( '3' ) ) );

		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_autosaves_never_save_schedules_even_with_a_valid_nonce_and_capability(): void {
		$this->login_as( 'administrator' );
		$id       = $this->make_server();
		$sidecar  = $this->fake_sidecar();
		$autosave = wp_create_post_autosave( array( 'post_ID' => $id, 'post_title' => 'web-1 draft', 'post_type' => 'wpcd_app_server' ) );
		$this->assertIsInt( $autosave );
		$this->assertNotFalse( wp_is_post_autosave( $autosave ) );
		// A valid nonce: only the autosave guard can stop the save.
		$_POST = array( 'ss_server_schedules_nonce' => wp_create_nonce( 'ss_server_schedules' ), 'ss_server_schedules_present' => '1', 'ss_schedule_ids' => array( '3' ) );

		Server_Metabox::on_save_post( $autosave, get_post( $autosave ) );

		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_when_the_sidecar_refuses_the_schedules_then_the_server_screen_says_why(): void {
		$this->login_as( 'administrator' );
		$id = $this->make_server();
		$this->fake_sidecar()->on( 'PUT', '#/schedules$#', array( 400, array( 'error' => array( 'code' => 'validation_failed', 'message' => 'scheduleIds: schedule 3 does not exist; reload the page to see the current schedules' ) ) ) );

		$this->post_update( $id, array( 'ss_server_schedules_nonce' => wp_create_nonce( 'ss_server_schedules' ), 'ss_server_schedules_present' => '1', 'ss_schedule_ids' => array( '3' ) ) );
		$location = apply_filters( 'redirect_post_location', admin_url( 'post.php?post=' . $id . '&action=edit' ), $id );

		$args = $this->query_args( $location );
		$this->assertSame( 'error', $args['ss_message'] );
		$this->assertStringContainsString( 'does not exist', get_transient( 'ss_notice_' . get_current_user_id() . '_' . $args['ss_detail'] ) );
	}

	public function test_take_snapshot_now_asks_the_sidecar_for_a_manual_snapshot_of_this_server(): void {
		$this->login_as( 'administrator' );
		$id      = $this->make_server();
		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/servers/' . $id . '/snapshots$#', array( 202, array( 'snapshot' => array( 'id' => 1, 'status' => 'requested' ) ) ) );

		$outcome = $this->run_handler( 'admin_post_ss_take_snapshot', array(), array( 'action' => 'ss_take_snapshot', 'server' => (string) $id, '_wpnonce' => wp_create_nonce( 'ss_take_snapshot' ) ) );

		$this->assertInstanceOf( Redirect_Exception::class, $outcome );
		$this->assertStringContainsString( 'post.php?post=' . $id . '&action=edit', $outcome->location );
		$this->assertSame( 'snapshot-requested', $this->query_args( $outcome->location )['ss_message'] );
		$this->assertCount( 1, $sidecar->requests_to( '/api/v1/servers/' . $id . '/snapshots', 'POST' ) );
	}
}
