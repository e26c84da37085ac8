<?php
namespace ScheduledSnapshots\Tests;

/**
 * The host's backup tab fires
 * do_action( 'wpcd_server_wordpress-app_take_a_snapshot_action_successful', $server_id, $action, $success, $result ).
 */
final class PanelSnapshotHookTest extends Test_Case {

	const HOOK = 'wpcd_server_wordpress-app_take_a_snapshot_action_successful';

	public function test_when_the_host_took_a_snapshot_then_one_signed_request_records_it(): void {
		$user    = $this->login_as( 'administrator' );
		$server  = $this->make_server();
		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/panel-snapshots$#', array( 201, array( 'snapshot' => array( 'id' => 5 ) ) ) );

		do_action( self::HOOK, $server, 'take-snapshot', true, array( 'snapshot-id' => 'do-action-12345' ) );

		$this->assertCount( 1, $sidecar->requests );
		$request = $sidecar->requests[0];
		$this->assertSame( 'POST', $request['method'] );
		$this->assertSame( '/api/v1/panel-snapshots', $request['path'] );
		$this->assertSame( array( 'serverId' => $server, 'providerSnapshotId' => 'do-action-12345', 'action' => 'take-snapshot' ), json_decode( $request['body'], true ) );
		$this->assertSame( (string) $user, $request['headers']['X-SS-Actor'] );
		$this->assertTrue( Fake_Sidecar::signature_is_valid( $request, SS_SHARED_SECRET ), 'HMAC over method, path, timestamp, nonce, actor and body' );
		$this->assertFalse( Fake_Sidecar::signature_is_valid( $request, str_repeat( 'x', 40 ) ), 'and only with the shared secret' );
	}

	public function test_numeric_snapshot_ids_are_sent_as_strings(): void {
		$server  = $this->make_server();
		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/panel-snapshots$#', array( 201, array() ) );

		do_action( self::HOOK, (string) $server, 'take-snapshot', 1, array( 'snapshot-id' => 987654321 ) );

		$body = json_decode( $sidecar->requests[0]['body'], true );
		$this->assertSame( '987654321', $body['providerSnapshotId'] );
		$this->assertSame( $server, $body['serverId'] );
		$this->assertSame( 'system', $sidecar->requests[0]['headers']['X-SS-Actor'], 'no user: the host ran it in the background' );
	}

	public function test_when_the_host_action_failed_gave_no_id_or_named_no_server_then_nothing_is_recorded(): void {
		$server  = $this->make_server();
		$sidecar = $this->fake_sidecar();

		do_action( self::HOOK, $server, 'take-snapshot', false, array( 'snapshot-id' => 'x-1' ) );
		do_action( self::HOOK, $server, 'take-snapshot', true, array() );
		do_action( self::HOOK, $server, 'take-snapshot', true, array( 'snapshot-id' => '' ) );
		do_action( self::HOOK, $server, 'take-snapshot', true, 'not an array' );
		do_action( self::HOOK, 0, 'take-snapshot', true, array( 'snapshot-id' => 'x-1' ) );
		// Another plugin firing the host's hook with a post that is no server.
		$page = wp_insert_post( array( 'post_type' => 'page', 'post_status' => 'publish', 'post_title' => 'not a server' ) );
		do_action( self::HOOK, $page, 'take-snapshot', true, array( 'snapshot-id' => 'x-1' ) );
		do_action( self::HOOK, 999999, 'take-snapshot', true, array( 'snapshot-id' => 'x-1' ) );

		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_when_the_sidecar_is_down_then_the_snapshot_is_kept_and_the_user_is_told_it_will_be_recorded(): void {
		$user   = $this->login_as( 'administrator' );
		$server = $this->make_server();

		do_action( self::HOOK, (string) $server, 'take_a_snapshot', true, array( 'snapshot-id' => 2000000003, 'snapshot-id-type' => 'intermediate' ) );

		$this->assertSame( array( array( 'serverId' => $server, 'providerSnapshotId' => '2000000003', 'idType' => 'intermediate', 'action' => 'take_a_snapshot', 'actor' => (string) $user ) ), \ScheduledSnapshots\Panel_Snapshots::backlog() );
		$this->assertNotFalse( wp_next_scheduled( \ScheduledSnapshots\Panel_Snapshots::RETRY ), 'WP-Cron tries again even if nobody opens wp-admin' );
		$queued = get_user_meta( $user, 'ss_queued_notices', true );
		$this->assertCount( 1, $queued );
		$this->assertSame( 'panel-queued', $queued[0]['code'] );
		$this->assertStringContainsString( 'Snapshot 2000000003 is kept and will be added to the Snapshots list when the snapshot service answers again.', $queued[0]['detail'] );
		$this->assertStringContainsString( 'is not answering', $queued[0]['detail'] );

		// The next screen of ours hands it to the sidecar's views, which say it in the user's language.
		$notice = \ScheduledSnapshots\Notices::take_from_request();
		$this->assertSame( 'panel-queued', $notice['code'] );
		$this->assertSame( '', get_user_meta( $user, 'ss_queued_notices', true ), 'shown once' );
	}

	public function test_when_the_sidecar_is_back_then_the_kept_snapshots_are_recorded_once_in_order_as_their_user(): void {
		$user   = $this->login_as( 'administrator' );
		$server = $this->make_server();
		do_action( self::HOOK, $server, 'take_a_snapshot', true, array( 'snapshot-id' => 'sbx-1', 'snapshot-id-type' => 'final' ) );
		do_action( self::HOOK, $server, 'take_a_snapshot', true, array( 'snapshot-id' => 'sbx-2' ) );
		$this->assertCount( 2, \ScheduledSnapshots\Panel_Snapshots::backlog() );

		// Still down on the next page: nothing is lost, and the next try waits a minute.
		\ScheduledSnapshots\Panel_Snapshots::retry();
		$this->assertCount( 2, \ScheduledSnapshots\Panel_Snapshots::backlog() );

		delete_transient( \ScheduledSnapshots\Panel_Snapshots::RETRY );
		wp_set_current_user( 0 ); // WP-Cron: no user, yet the snapshot is still the user's
		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/panel-snapshots$#', array( 201, array() ) );
		do_action( \ScheduledSnapshots\Panel_Snapshots::RETRY );
		$this->assertNotFalse( has_action( 'admin_init', array( \ScheduledSnapshots\Panel_Snapshots::class, 'retry' ) ), 'and on the next admin page' );
		\ScheduledSnapshots\Panel_Snapshots::retry();

		$sent = $sidecar->requests_to( '/api/v1/panel-snapshots' );
		$this->assertCount( 2, $sent, 'each once' );
		$this->assertSame( array( 'serverId' => $server, 'providerSnapshotId' => 'sbx-1', 'idType' => 'final', 'action' => 'take_a_snapshot' ), json_decode( $sent[0]['body'], true ) );
		$this->assertSame( 'sbx-2', json_decode( $sent[1]['body'], true )['providerSnapshotId'] );
		$this->assertSame( (string) $user, $sent[0]['headers']['X-SS-Actor'] );
		$this->assertTrue( Fake_Sidecar::signature_is_valid( $sent[0], SS_SHARED_SECRET ) );
		$this->assertSame( array(), \ScheduledSnapshots\Panel_Snapshots::backlog() );
	}

	public function test_when_the_sidecar_refuses_the_snapshot_then_it_is_not_kept_and_the_user_is_told_why(): void {
		$user   = $this->login_as( 'administrator' );
		$server = $this->make_server();
		$this->fake_sidecar()->on( 'POST', '#^/api/v1/panel-snapshots$#', array( 409, array( 'error' => array( 'code' => 'conflict', 'message' => 'This server has no configured provider.' ) ) ) );

		do_action( self::HOOK, $server, 'take_a_snapshot', true, array( 'snapshot-id' => 'x-9' ) );

		$this->assertSame( array(), \ScheduledSnapshots\Panel_Snapshots::backlog() );
		$queued = get_user_meta( $user, 'ss_queued_notices', true );
		$this->assertSame( array( array( 'code' => 'panel-not-recorded', 'detail' => 'This server has no configured provider.' ) ), $queued );
	}

	public function test_the_stand_in_backup_tab_fires_the_host_hook_with_a_snapshot_id(): void {
		$this->login_as( 'administrator' );
		$server = $this->make_server();
		$this->fake_sidecar()
			->on( 'POST', '#^/api/v1/sandbox/snapshots$#', array( 201, array( 'providerSnapshotId' => 'sbx-77' ) ) )
			->on( 'POST', '#^/api/v1/panel-snapshots$#', array( 201, array() ) );
		$seen = array();
		$this->add_test_filter(
			self::HOOK,
			static function ( $server_id, $action, $success, $result ) use ( &$seen ) {
				$seen[] = array( $server_id, $action, $success, $result );
			},
			5,
			4
		);

		$outcome = $this->run_handler( 'admin_post_ss_standin_take_snapshot', array(), array( 'action' => 'ss_standin_take_snapshot', 'server_id' => (string) $server, '_wpnonce' => wp_create_nonce( 'ss_standin_take_snapshot_' . $server ) ) );

		$this->assertInstanceOf( Redirect_Exception::class, $outcome );
		$this->assertSame( array( array( $server, 'take-snapshot', true, array( 'snapshot-id' => 'sbx-77' ) ) ), $seen );
		$this->assertSame( 'sbx-77', json_decode( $this->sidecar->requests_to( '/api/v1/panel-snapshots' )[0]['body'], true )['providerSnapshotId'] );
	}
}
