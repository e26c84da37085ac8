<?php
namespace ScheduledSnapshots\Tests;

use ScheduledSnapshots\Server_Metabox;

final class ServerMetaboxTest extends Test_Case {

	private function fake_server_api( int $server_id ): Fake_Sidecar {
		return $this->fake_sidecar()
			->on(
				'GET',
				'#^/api/v1/servers/' . $server_id . '$#',
				array(
					200,
					array(
						'server'       => array(
							'id'           => $server_id,
							'name'         => 'web-1',
							'provider'     => 'linode',
							'providerType' => 'linode',
							'providerName' => 'Linode',
							'instanceId'   => '123',
							'region'       => 'eu',
							'problem'      => null,
							'capabilities' => array( 'create' => true, 'delete' => false, 'labels' => false, 'slotsPerServer' => 1, 'notes' => array( 'Linode keeps snapshots as backups.' ) ),
						),
						'schedules'    => array( array( 'scheduleId' => 3, 'name' => 'Nightly', 'enabled' => true, 'nextRunAt' => '2030-01-02T03:00:00.000Z', 'problem' => null ) ),
						'lastSnapshot' => array( 'id' => 9, 'serverId' => $server_id, 'status' => 'failed', 'origin' => 'scheduled', 'createdAt' => '2029-12-31T03:00:00.000Z', 'lastError' => '<img src=x onerror=alert(1)>', 'name' => 'ss-9' ),
					),
				)
			)
			->on(
				'GET',
				'#^/api/v1/schedules$#',
				array(
					200,
					array(
						'items' => array(
							array( 'id' => 3, 'name' => 'Nightly', 'intervalMinutes' => null, 'cron' => '0 3 * * *', 'timezone' => 'UTC', 'enabled' => true, 'frequency' => 'Every day at 03:00' ),
							array( 'id' => 4, 'name' => '<script>alert(1)</script>', 'intervalMinutes' => 60, 'cron' => null, 'timezone' => 'UTC', 'enabled' => true ),
						),
					),
				)
			);
	}

	public function test_the_snapshots_box_is_registered_on_the_host_server_screen_for_admins(): void {
		global $wp_meta_boxes;
		$this->login_as( 'administrator' );
		$server = get_post( $this->make_server() );

		do_action( 'add_meta_boxes', 'wpcd_app_server', $server );

		$this->assertArrayHasKey( 'ss-server-snapshots', $wp_meta_boxes['wpcd_app_server']['normal']['default'] );
		$this->assertSame( 'Snapshots', $wp_meta_boxes['wpcd_app_server']['normal']['default']['ss-server-snapshots']['title'] );
	}

	public function test_the_snapshots_box_is_not_offered_to_users_without_the_capability(): void {
		global $wp_meta_boxes;
		$wp_meta_boxes = array();
		$this->login_as( 'editor' );
		$server = get_post( $this->make_server() );

		do_action( 'add_meta_boxes', 'wpcd_app_server', $server );

		$this->assertArrayNotHasKey( 'ss-server-snapshots', $wp_meta_boxes['wpcd_app_server']['normal']['default'] ?? array() );
	}

	public function test_the_box_shows_schedules_by_name_next_run_last_snapshot_and_what_the_provider_cannot_do(): void {
		$this->login_as( 'administrator' );
		$id = $this->make_server();
		$this->fake_server_api( $id );

		$html = $this->render(
			static function () use ( $id ) {
				Server_Metabox::render( get_post( $id ) );
			}
		);

		$this->assertMatchesRegularExpression( '#<input type="checkbox" name="ss_schedule_ids\[\]" value="3"[^>]*checked#', $html );
		$this->assertMatchesRegularExpression( '#<input type="checkbox" name="ss_schedule_ids\[\]" value="4"(?![^>]*checked)#', $html );
		$this->assertStringContainsString( '&lt;script&gt;alert(1)&lt;/script&gt;', $html );
		$this->assertStringNotContainsString( '<script>alert(1)', $html );
		$this->assertStringContainsString( 'next run January 2, 2030', $html );
		$this->assertStringContainsString( 'Linode cannot delete snapshots through its API', $html );
		$this->assertStringContainsString( 'Linode keeps only 1 snapshot per server', $html );
		$this->assertStringContainsString( '&lt;img src=x onerror=alert(1)&gt;', $html );
		$this->assertStringContainsString( 'id="ss-take-snapshot-now"', $html );
		$this->assertStringContainsString( 'serverId=' . $id, $html, 'links to this server\'s snapshots' );
		$this->assertStringContainsString( 'name="ss_server_schedules_present"', $html );
	}

	public function test_when_the_sidecar_is_down_then_the_box_says_so_and_update_cannot_clear_the_schedules(): void {
		$this->login_as( 'administrator' );
		$id = $this->make_server();

		$html = $this->render(
			static function () use ( $id ) {
				Server_Metabox::render( get_post( $id ) );
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
				'ss_server_schedules_nonce'   => wp_create_nonce( 'ss_server_schedules_' . $id ),
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
				'ss_server_schedules_nonce'   => wp_create_nonce( 'ss_server_schedules_' . $id ),
				'ss_server_schedules_present' => '1',
			)
		);

		$this->assertSame( '{"scheduleIds":[]}', $sidecar->requests_to( '/api/v1/servers/' . $id . '/schedules', 'PUT' )[0]['body'] );
	}

	public function test_when_the_nonce_is_missing_or_wrong_then_nothing_is_saved(): void {
		$this->login_as( 'administrator' );
		$id      = $this->make_server();
		$other   = $this->make_server( 'web-2' );
		$sidecar = $this->fake_sidecar();

		$this->post_update( $id, array( 'ss_server_schedules_present' => '1', 'ss_schedule_ids' => array( '3' ) ) );
		$this->post_update( $id, array( 'ss_server_schedules_nonce' => wp_create_nonce( 'ss_server_schedules_' . $other ), 'ss_server_schedules_present' => '1', 'ss_schedule_ids' => array( '3' ) ) );

		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_when_the_user_lacks_the_capability_then_nothing_is_saved(): void {
		$this->login_as( 'editor' );
		$id      = $this->make_server();
		$sidecar = $this->fake_sidecar();

		$this->post_update( $id, array( 'ss_server_schedules_nonce' => wp_create_nonce( 'ss_server_schedules_' . $id ), 'ss_server_schedules_present' => '1', 'ss_schedule_ids' => array( '3' ) ) );

		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_autosaves_never_save_schedules_even_with_a_valid_nonce_and_capability(): void {
		$this->login_as( 'administrator' );
		$id       = $this->make_server();
		$sidecar  = $this->fake_sidecar();
		$autosave = wp_create_post_autosave( array( 'post_ID' => $id, 'post_title' => 'web-1 draft', 'post_type' => 'wpcd_app_server' ) );
		$this->assertIsInt( $autosave );
		$this->assertNotFalse( wp_is_post_autosave( $autosave ) );
		// A nonce for exactly this post id: only the autosave guard can stop the save.
		$_POST = array( 'ss_server_schedules_nonce' => wp_create_nonce( 'ss_server_schedules_' . $autosave ), 'ss_server_schedules_present' => '1', 'ss_schedule_ids' => array( '3' ) );

		Server_Metabox::save( $autosave, get_post( $autosave ) );

		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_when_the_sidecar_refuses_the_schedules_then_the_server_screen_says_why(): void {
		$this->login_as( 'administrator' );
		$id = $this->make_server();
		$this->fake_sidecar()->on( 'PUT', '#/schedules$#', array( 400, array( 'error' => array( 'code' => 'validation_failed', 'message' => 'scheduleIds: schedule 3 does not exist; reload the page to see the current schedules' ) ) ) );

		$this->post_update( $id, array( 'ss_server_schedules_nonce' => wp_create_nonce( 'ss_server_schedules_' . $id ), 'ss_server_schedules_present' => '1', 'ss_schedule_ids' => array( '3' ) ) );
		$location = apply_filters( 'redirect_post_location', admin_url( 'post.php?post=' . $id . '&action=edit' ), $id );

		$args = $this->query_args( $location );
		$this->assertSame( 'error', $args['ss_message'] );
		$this->assertStringContainsString( 'does not exist', get_transient( 'ss_notice_' . get_current_user_id() . '_' . $args['ss_detail'] ) );
	}

	public function test_take_snapshot_now_asks_the_sidecar_for_a_manual_snapshot_of_this_server(): void {
		$this->login_as( 'administrator' );
		$id      = $this->make_server();
		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/servers/' . $id . '/snapshots$#', array( 202, array( 'snapshot' => array( 'id' => 1, 'status' => 'requested' ) ) ) );

		$outcome = $this->run_handler( 'admin_post_ss_take_snapshot', array(), array( 'action' => 'ss_take_snapshot', 'server' => (string) $id, '_wpnonce' => wp_create_nonce( 'ss_take_snapshot_' . $id ) ) );

		$this->assertInstanceOf( Redirect_Exception::class, $outcome );
		$this->assertStringContainsString( 'post.php?post=' . $id . '&action=edit', $outcome->location );
		$this->assertSame( 'snapshot-requested', $this->query_args( $outcome->location )['ss_message'] );
		$this->assertCount( 1, $sidecar->requests_to( '/api/v1/servers/' . $id . '/snapshots', 'POST' ) );
	}
}
