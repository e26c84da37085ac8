<?php
namespace ScheduledSnapshots\Tests;

use ScheduledSnapshots\Screens;

/**
 * Health where the admin already looks: the dashboard widget and the critical notice on the
 * host's server list are one signed render each; Settings' "Send test message" is an
 * admin-post handler like the others (capability and nonce: AdminPostHandlersTest).
 */
final class HealthScreensTest extends Test_Case {

	const WIDGET = '<div class="ss-dashboard" id="ss-dashboard">1 server Critical</div>';
	const NOTICE = '<div class="notice notice-error ss-critical-notice" id="ss-critical-notice"><p>1 server critical</p></div>';

	private function widget_callback(): ?callable {
		global $wp_meta_boxes;
		require_once ABSPATH . 'wp-admin/includes/dashboard.php'; // WordPress loads it on the dashboard only.
		$wp_meta_boxes = array();
		set_current_screen( 'dashboard' );
		do_action( 'wp_dashboard_setup' );
		return $wp_meta_boxes['dashboard']['normal']['core']['ss_health']['callback'] ?? null;
	}

	public function test_when_an_admin_opens_the_dashboard_then_the_widget_is_one_signed_render_printed_as_is(): void {
		$this->login_as( 'administrator' );
		$sidecar  = $this->fake_sidecar()->on( 'GET', '#^/ui/v1/dashboard$#', array( 'raw' => self::WIDGET, 'type' => 'text/html; charset=utf-8' ) );
		$callback = $this->widget_callback();
		$this->assertIsCallable( $callback );

		$html = $this->render( $callback );

		$this->assertSame( self::WIDGET, $html );
		$this->assertCount( 1, $sidecar->requests );
		$this->assertTrue( Fake_Sidecar::signature_is_valid( $sidecar->requests[0], SS_SHARED_SECRET ) );
	}

	public function test_when_the_sidecar_is_down_then_the_widget_says_why_instead_of_breaking_the_dashboard(): void {
		$this->login_as( 'administrator' );
		$html = $this->render( $this->widget_callback() );
		$this->assertStringContainsString( 'is not answering', $html );
	}

	public function test_when_the_user_cannot_manage_snapshots_then_there_is_no_widget_and_no_request(): void {
		$this->login_as( 'editor' );
		$sidecar = $this->fake_sidecar();
		$this->assertNull( $this->widget_callback() );
		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_when_the_host_server_list_is_shown_then_the_critical_notice_is_rendered_once_there_and_nowhere_else(): void {
		$this->login_as( 'administrator' );
		$sidecar = $this->fake_sidecar()->on( 'GET', '#^/ui/v1/notice$#', array( 'raw' => self::NOTICE, 'type' => 'text/html; charset=utf-8' ) );

		set_current_screen( 'edit-wpcd_app_server' );
		$this->assertSame( self::NOTICE, $this->render( array( Screens::class, 'host_list_notice' ) ) );
		$this->assertCount( 1, $sidecar->requests );

		set_current_screen( 'edit-post' );
		$this->assertSame( '', $this->render( array( Screens::class, 'host_list_notice' ) ) );
		$this->assertCount( 1, $sidecar->requests );
	}

	public function test_when_the_sidecar_is_down_then_the_host_server_list_shows_no_notice_at_all(): void {
		$this->login_as( 'administrator' );
		set_current_screen( 'edit-wpcd_app_server' );
		$this->assertSame( '', $this->render( array( Screens::class, 'host_list_notice' ) ) );
	}

	public function test_when_an_editor_opens_the_host_server_list_then_no_request_is_made(): void {
		$this->login_as( 'editor' );
		$sidecar = $this->fake_sidecar();
		set_current_screen( 'edit-wpcd_app_server' );
		$this->assertSame( '', $this->render( array( Screens::class, 'host_list_notice' ) ) );
		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_when_an_admin_sends_a_test_message_then_the_sidecar_is_asked_once_and_settings_says_what_each_channel_answered(): void {
		$this->login_as( 'administrator' );
		$results = array(
			array( 'channel' => 'email', 'ok' => true, 'message' => 'The mail server accepted the test message.' ),
			array( 'channel' => 'webhook', 'ok' => false, 'message' => 'The webhook answered HTTP 500.' ),
		);
		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/alerts/test$#', array( 200, array( 'ok' => false, 'results' => $results ) ) );

		$outcome = $this->run_handler( 'admin_post_ss_test_alerts', array(), array( 'action' => 'ss_test_alerts', '_wpnonce' => wp_create_nonce( 'ss_test_alerts' ) ) );

		$this->assertInstanceOf( Redirect_Exception::class, $outcome );
		$this->assertCount( 1, $sidecar->requests_to( '/api/v1/alerts/test', 'POST' ) );
		$this->assertTrue( Fake_Sidecar::signature_is_valid( $sidecar->requests[0], SS_SHARED_SECRET ) );
		$args = $this->query_args( $outcome->location );
		$this->assertSame( 'ss-settings', $args['page'] );
		$this->assertSame( 'alerts-test-failed', $args['ss_message'] );
		$_GET = $args;
		$this->assertSame( 'The mail server accepted the test message. The webhook answered HTTP 500.', Screens::context( 'settings' )['notice']['detail'] );
	}

	public function test_when_no_channel_is_configured_then_the_sidecars_sentence_reaches_settings(): void {
		$this->login_as( 'administrator' );
		$this->fake_sidecar()->on( 'POST', '#^/api/v1/alerts/test$#', array( 409, array( 'error' => array( 'code' => 'conflict', 'message' => 'No alert channel is configured: set SS_SMTP_URL and SS_ALERT_EMAIL_TO, or SS_ALERT_WEBHOOK_URL, and restart the sidecar.' ) ) ) );

		$outcome = $this->run_handler( 'admin_post_ss_test_alerts', array(), array( 'action' => 'ss_test_alerts', '_wpnonce' => wp_create_nonce( 'ss_test_alerts' ) ) );

		$args = $this->query_args( $outcome->location );
		$this->assertSame( 'error', $args['ss_message'] );
		$_GET = $args;
		$this->assertStringContainsString( 'No alert channel is configured', Screens::context( 'settings' )['notice']['detail'] );
	}
}
