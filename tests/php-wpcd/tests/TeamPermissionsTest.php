<?php
namespace ScheduledSnapshots\Tests;

/**
 * WPCloudDeploy grants servers to team members (a wpcd_team, its permission "view_server",
 * the server's wpcd_assigned_teams). With the plugin opened to WPCD's server managers
 * (ss_required_capability = wpcd_manage_servers), a member acts on the snapshots of the
 * server their team manages, and not on another's.
 */
final class TeamPermissionsTest extends Wpcd_Test_Case {

	public function test_a_team_member_who_manages_one_server_can_act_on_its_snapshots_and_not_on_anothers(): void {
		$admin  = $this->login_as( 'administrator' );
		$theirs = $this->wpcd_server( 3164447, 'team-web', $admin );
		$other  = $this->wpcd_server( 3164448, 'other-web', $admin );
		$member = $this->make_user( 'wpcdsysadmin' );
		$team   = wp_insert_post( array( 'post_type' => 'wpcd_team', 'post_status' => 'private', 'post_title' => 'Ops' ) );
		$view   = wpcd_get_permission_id_from_name( 'view_server' );
		$this->assertGreaterThan( 0, $view, "WPCD's own permission type view_server" );
		WPCD_POSTS_TEAM()->wpcd_assign_permissions( $team, $member, $view );
		add_post_meta( $theirs, 'wpcd_assigned_teams', $team );
		$this->add_test_filter( 'ss_required_capability', static function () { return 'wpcd_manage_servers'; } );
		wp_set_current_user( $member );
		$this->assertTrue( wpcd_user_can_edit_app_server( $theirs ) && ! wpcd_user_can_edit_app_server( $other ), "WPCD's own rule, as set up" );

		$sidecar = $this->fake_sidecar()
			->on( 'POST', '#^/api/v1/servers/\d+/snapshots$#', array( 201, array( 'snapshot' => array( 'id' => 1 ) ) ) )
			->on( 'GET', '#^/api/v1/snapshots/21$#', array( 200, array( 'snapshot' => array( 'id' => 21, 'serverId' => $theirs ) ) ) )
			->on( 'GET', '#^/api/v1/snapshots/22$#', array( 200, array( 'snapshot' => array( 'id' => 22, 'serverId' => $other ) ) ) )
			->on( 'DELETE', '#^/api/v1/snapshots/\d+$#', array( 200, array( 'deleted' => true, 'providerCopyKept' => false, 'message' => 'Deleted.' ) ) );
		$take  = function ( int $server ) {
			return $this->run_handler( 'admin_post_ss_take_snapshot', array(), array( 'action' => 'ss_take_snapshot', 'server' => (string) $server, '_wpnonce' => wp_create_nonce( 'ss_take_snapshot' ) ) );
		};
		$trash = function ( int $snapshot ) {
			return $this->run_handler( 'admin_post_ss_trash_snapshot', array(), array( 'action' => 'ss_trash_snapshot', 'snapshot' => (string) $snapshot, '_wpnonce' => wp_create_nonce( 'ss_trash_snapshot' ) ) );
		};

		$this->assertInstanceOf( Redirect_Exception::class, $take( $theirs ) );
		$this->assertInstanceOf( Redirect_Exception::class, $trash( 21 ) );
		foreach ( array( $take( $other ), $trash( 22 ) ) as $refused ) {
			$this->assertInstanceOf( Wp_Die_Exception::class, $refused );
			$this->assertSame( 403, $refused->status );
		}
		$this->assertCount( 1, $sidecar->requests_to( '/api/v1/servers/' . $theirs . '/snapshots', 'POST' ) );
		$this->assertCount( 1, $sidecar->requests_to( '/api/v1/snapshots/21', 'DELETE' ) );
		$this->assertSame( array(), $sidecar->requests_to( '/api/v1/servers/' . $other . '/snapshots' ) );
		$this->assertSame( array(), $sidecar->requests_to( '/api/v1/snapshots/22', 'DELETE' ) );
		$this->assertSame( (string) $member, $sidecar->requests_to( '/api/v1/servers/' . $theirs . '/snapshots' )[0]['headers']['X-SS-Actor'] );
	}
}
