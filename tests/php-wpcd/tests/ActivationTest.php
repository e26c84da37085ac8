<?php
namespace ScheduledSnapshots\Tests;

/**
 * WPCloudDeploy 5.8.0, Meta Box 5.9.7 and our plugin, activated as the Plugins screen does.
 */
final class ActivationTest extends Wpcd_Test_Case {

	public function test_all_three_are_active_and_activation_logged_nothing_from_our_code(): void {
		foreach ( array( 'meta-box/meta-box.php', 'wp-cloud-deploy/wpcd.php', 'scheduled-snapshots/scheduled-snapshots.php' ) as $plugin ) {
			$this->assertTrue( is_plugin_active( $plugin ), "$plugin is active" );
		}
		$this->assertTrue( function_exists( 'WPCD_SERVER' ), "WPCD's own functions are loaded" );
		$this->assertFalse( function_exists( 'ss_standin_register' ) || class_exists( 'SS_Host_Standin' ), 'the stand-in host is not there' );
		$log  = is_file( SS_TESTS_DEBUG_LOG ) ? (string) file_get_contents( SS_TESTS_DEBUG_LOG ) : '';
		$ours = array_filter( preg_split( '/\R/', $log ), static function ( $line ) { return false !== strpos( $line, 'scheduled-snapshots/' ) && false === strpos( $line, 'wp-cloud-deploy' ); } );
		$this->assertSame( array(), array_values( $ours ), "activation and loading logged from our plugin:\n" . implode( "\n", $ours ) );
	}

	public function test_a_server_made_by_wpcds_own_function_is_a_private_wpcd_app_server(): void {
		$this->login_as( 'administrator' );
		$id   = $this->wpcd_server( 3164444 );
		$post = get_post( $id );
		$this->assertSame( 'wpcd_app_server', $post->post_type );
		$this->assertSame( 'private', $post->post_status );
		$this->assertSame( 'digital-ocean', WPCD_SERVER()->get_server_provider( $id ) );
	}
}
