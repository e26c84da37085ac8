<?php
namespace ScheduledSnapshots\Tests;

use ScheduledSnapshots\Config;
use ScheduledSnapshots\Server_Metabox;

/**
 * WPCD's Backup tab gets a card pointing at the box; on a network (ss_is_network stands in for
 * is_multisite() here) settings and capability are network-level; the plugin refuses to run on a
 * site whose tables are not the ones the sidecar reads.
 */
final class NetworkAndPlacementTest extends Test_Case {

	public function test_wpcds_backup_tab_gets_a_card_with_take_snapshot_now_for_this_server(): void {
		$this->login_as( 'administrator' );
		$id = $this->make_server();

		$fields = apply_filters( 'wpcd_server_wordpress-app_get_tabs', array( array( 'tab' => 'server_backup', 'type' => 'heading' ) ), $id );

		$card = end( $fields );
		$this->assertCount( 2, $fields, "WPCD's own fields stay" );
		$this->assertSame( 'server_backup', $card['tab'] );
		$this->assertSame( 'custom_html', $card['type'] );
		$this->assertStringContainsString( 'form="ss-take-snapshot-form"', $card['std'] );
		$this->assertStringContainsString( 'Take snapshot now', $card['std'] );
		$this->assertStringContainsString( 'serverId=' . $id, $card['std'] );
	}

	public function test_users_who_may_not_manage_snapshots_get_no_card_in_the_backup_tab(): void {
		$this->login_as( 'editor' );
		$id = $this->make_server();

		$this->assertSame( array(), apply_filters( 'wpcd_server_wordpress-app_get_tabs', array(), $id ) );
	}

	public function test_on_a_network_a_site_administrator_is_refused_schedules_and_settings(): void {
		$this->add_test_filter( 'ss_is_network', '__return_true' );
		$this->login_as( 'administrator' );

		$this->assertSame( 'manage_network_options', Config::required_capability() );
		$refused = $this->run_handler( 'admin_post_ss_save_settings', array(), array( 'action' => 'ss_save_settings', 'ss_sidecar_url' => 'http://10.0.0.9:8787', '_wpnonce' => wp_create_nonce( 'ss_save_settings' ) ) );
		$this->assertInstanceOf( Wp_Die_Exception::class, $refused );
		$this->assertSame( 403, $refused->status );
		$this->assertFalse( get_site_option( Config::OPTION_SIDECAR_URL ) );
	}

	public function test_on_a_network_the_sidecar_address_is_saved_as_the_network_option_and_wp_config_still_wins(): void {
		$this->add_test_filter( 'ss_is_network', '__return_true' );

		Config::save_sidecar_url( 'http://10.0.0.2:8787' );

		$this->assertSame( 'http://10.0.0.2:8787', get_site_option( Config::OPTION_SIDECAR_URL ) );
		$this->assertSame( SS_SIDECAR_URL, Config::sidecar_url(), 'SS_SIDECAR_URL in wp-config.php comes first' );
		Config::save_sidecar_url( '' );
		$this->assertFalse( get_site_option( Config::OPTION_SIDECAR_URL ) );
	}

	public function test_a_site_whose_table_prefix_is_not_the_sidecars_is_refused_saying_why(): void {
		$this->assertNull( Config::prefix_problem( 'wp_', 'wp_' ) );
		$this->assertNull( Config::prefix_problem( 'wp_2_', null ), 'without SS_TABLE_PREFIX there is nothing to compare' );

		$why = Config::prefix_problem( 'wp_2_', 'wp_' );

		$this->assertStringContainsString( 'is not running on this site', $why );
		$this->assertStringContainsString( '"wp_2_"', $why );
		$this->assertStringContainsString( 'SS_TABLE_PREFIX', $why );
	}

	public function test_the_refusal_is_an_admin_notice(): void {
		global $wp_filter;
		$saved = array();
		foreach ( array( 'admin_notices', 'network_admin_notices' ) as $hook ) {
			$saved[ $hook ] = isset( $wp_filter[ $hook ] ) ? clone $wp_filter[ $hook ] : null;
		}
		try {
			\ScheduledSnapshots\refuse( static function () { return Config::prefix_problem( 'wp_2_', 'wp_' ); } );
			$html = $this->render( static function () { do_action( 'admin_notices' ); } );
		} finally {
			foreach ( $saved as $hook => $copy ) {
				if ( null === $copy ) {
					unset( $wp_filter[ $hook ] );
				} else {
					$wp_filter[ $hook ] = $copy;
				}
			}
		}

		$this->assertMatchesRegularExpression( '#<div class="notice notice-error ss-refused"><p>Scheduled Snapshots is not running on this site: its tables start with &quot;wp_2_&quot;#', $html );
	}
}
