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

	/** Without any filter: WPCD's server managers act on their servers; Schedules and Settings stay with administrators. */
	public function test_a_wpcd_server_manager_acts_on_their_server_only_and_is_refused_schedules_and_settings(): void {
		global $wp_meta_boxes;
		$admin  = $this->login_as( 'administrator' );
		$theirs = $this->wpcd_server( 3164450, 'team-web', $admin );
		$other  = $this->wpcd_server( 3164451, 'other-web', $admin );
		$member = $this->make_user( 'wpcdsysadmin' );
		$team   = wp_insert_post( array( 'post_type' => 'wpcd_team', 'post_status' => 'private', 'post_title' => 'Ops' ) );
		WPCD_POSTS_TEAM()->wpcd_assign_permissions( $team, $member, wpcd_get_permission_id_from_name( 'view_server' ) );
		add_post_meta( $theirs, 'wpcd_assigned_teams', $team );
		wp_set_current_user( $member );
		$this->assertTrue( current_user_can( 'wpcd_manage_servers' ) && ! current_user_can( 'manage_options' ), "WPCD's server manager, not an administrator" );
		$sidecar = $this->fake_sidecar()
			->on( 'POST', '#^/api/v1/servers/\d+/snapshots$#', array( 201, array( 'snapshot' => array( 'id' => 1 ) ) ) )
			->on( 'GET', '#^/api/v1/snapshots/31$#', array( 200, array( 'snapshot' => array( 'id' => 31, 'serverId' => $theirs ) ) ) )
			->on( 'PATCH', '#^/api/v1/snapshots/31$#', array( 200, array( 'snapshot' => array( 'id' => 31 ) ) ) )
			->on( 'GET', '#^/ui/v1/snapshots$#', array( 'raw' => '<div class="ss-list">list</div>', 'type' => 'text/html' ) );

		$take = $this->run_handler( 'admin_post_ss_take_snapshot', array(), array( 'action' => 'ss_take_snapshot', 'server' => (string) $theirs, '_wpnonce' => wp_create_nonce( 'ss_take_snapshot' ) ) );
		$keep = $this->run_handler( 'admin_post_ss_update_snapshot', array(), array( 'action' => 'ss_update_snapshot', 'snapshot' => '31', 'keepForever' => '1', '_wpnonce' => wp_create_nonce( 'ss_update_snapshot' ) ) );
		$this->assertInstanceOf( Redirect_Exception::class, $take );
		$this->assertInstanceOf( Redirect_Exception::class, $keep );
		$this->assertCount( 1, $sidecar->requests_to( '/api/v1/snapshots/31', 'PATCH' ) );
		$refused = array(
			$this->run_handler( 'admin_post_ss_take_snapshot', array(), array( 'action' => 'ss_take_snapshot', 'server' => (string) $other, '_wpnonce' => wp_create_nonce( 'ss_take_snapshot' ) ) ),
			$this->run_handler( 'admin_post_ss_save_settings', array(), array( 'action' => 'ss_save_settings', '_wpnonce' => wp_create_nonce( 'ss_save_settings' ) ) ),
			$this->run_handler( 'admin_post_ss_save_schedule', array(), array( 'action' => 'ss_save_schedule', 'schedule' => 'new', '_wpnonce' => wp_create_nonce( 'ss_save_schedule' ) ) ),
		);
		foreach ( $refused as $answer ) {
			$this->assertInstanceOf( Wp_Die_Exception::class, $answer );
			$this->assertSame( 403, $answer->status );
		}
		$this->assertSame( array(), $sidecar->requests_to( '/api/v1/servers/' . $other . '/snapshots' ) );

		// The box on their server's screen, not on another's; the list limited to their server.
		$wp_meta_boxes = array();
		set_current_screen( 'wpcd_app_server' );
		do_action( 'add_meta_boxes', 'wpcd_app_server', get_post( $other ) );
		$this->assertArrayNotHasKey( 'ss-server-snapshots', $wp_meta_boxes['wpcd_app_server']['side']['high'] ?? array() );
		do_action( 'add_meta_boxes', 'wpcd_app_server', get_post( $theirs ) );
		$this->assertArrayHasKey( 'ss-server-snapshots', $wp_meta_boxes['wpcd_app_server']['side']['high'] );
		$_GET = array( 'page' => 'ss-snapshots' );
		$this->assertStringContainsString( 'list', $this->render( array( \ScheduledSnapshots\Screens::class, 'render_snapshots' ) ) );
		$ctx = json_decode( $this->query_args( $sidecar->requests_to( '/ui/v1/snapshots' )[0]['url'] )['ctx'], true );
		$this->assertSame( array( $theirs ), $ctx['servers'] );
	}
}
