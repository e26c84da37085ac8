<?php
namespace ScheduledSnapshots\Tests;

use ScheduledSnapshots\Panel_Snapshots;

/**
 * WPCloudDeploy's own backup tab, "Take a Snapshot": its tab action (permission checks
 * included) runs its own DigitalOcean class against the fake DigitalOcean, and fires the hook
 * our plugin listens to.
 */
final class BackupTabTest extends Wpcd_Test_Case {

	private function take_a_snapshot_in_wpcd( int $server ) {
		// As WPCD's ajax handler dispatches the tab's button; the server id arrives as a string.
		return apply_filters( 'wpcd_app_wordpress-app_tab_action', '', 'take-a-snapshot', (string) $server );
	}

	public function test_wpcds_take_a_snapshot_is_recorded_once_with_the_action_id_digitalocean_gave_marked_intermediate(): void {
		$user    = $this->login_as( 'administrator' );
		$server  = $this->wpcd_server( 3164444 );
		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/panel-snapshots$#', array( 201, array( 'snapshot' => array( 'id' => 9 ) ) ) );

		$answer = $this->take_a_snapshot_in_wpcd( $server );

		$this->assertInstanceOf( \WP_Error::class, $answer, 'WPCD answers with a message for its dialog' );
		$this->assertStringContainsString( 'We have requested a snapshot', $answer->get_error_code() );
		$actions = $this->digitalocean->requests_to( '#^/droplets/3164444/actions$#', 'POST' );
		$this->assertCount( 1, $actions, "WPCD's DigitalOcean class asked for one snapshot" );
		$this->assertMatchesRegularExpression( '/"name": "WPCD_3164444_/', $actions[0]['body'] );
		$this->assertSame( 'Bearer dop_v1_entered_in_wpcd_settings_0001', $actions[0]['headers']['Authorization'], "the key WPCD decrypted from its own settings" );

		$sent = $sidecar->requests_to( '/api/v1/panel-snapshots' );
		$this->assertCount( 1, $sent );
		$this->assertSame(
			array( 'serverId' => $server, 'providerSnapshotId' => '2000000003', 'idType' => 'intermediate', 'action' => 'take_a_snapshot' ),
			json_decode( $sent[0]['body'], true )
		);
		$this->assertSame( (string) $user, $sent[0]['headers']['X-SS-Actor'] );
		$this->assertSame( array(), Panel_Snapshots::backlog() );
	}

	public function test_when_the_sidecar_is_down_then_wpcds_snapshot_waits_and_is_recorded_once_when_it_is_back(): void {
		$user   = $this->login_as( 'administrator' );
		$server = $this->wpcd_server( 3164445 );

		$this->take_a_snapshot_in_wpcd( $server ); // nothing listens on the sidecar's address

		$this->assertCount( 1, Panel_Snapshots::backlog() );
		$this->assertSame( 'panel-queued', get_user_meta( $user, 'ss_queued_notices', true )[0]['code'] );

		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/panel-snapshots$#', array( 201, array() ) );
		do_action( Panel_Snapshots::RETRY ); // WP-Cron
		Panel_Snapshots::retry(); // and the next admin page: nothing left to send

		$sent = $sidecar->requests_to( '/api/v1/panel-snapshots' );
		$this->assertCount( 1, $sent );
		$this->assertSame( array( 'serverId' => $server, 'providerSnapshotId' => '2000000003', 'idType' => 'intermediate', 'action' => 'take_a_snapshot' ), json_decode( $sent[0]['body'], true ) );
		$this->assertSame( array(), Panel_Snapshots::backlog() );
	}
}
