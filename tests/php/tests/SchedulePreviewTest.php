<?php
namespace ScheduledSnapshots\Tests;

/**
 * The add/edit form's live preview (admin-ajax.php?action=ss_schedule_preview).
 */
final class SchedulePreviewTest extends Test_Case {

	private function ajax( array $post ): array {
		$this->add_test_filter( 'wp_doing_ajax', '__return_true' );
		$_POST    = $post;
		$_REQUEST = $post;
		ob_start();
		try {
			do_action( 'wp_ajax_ss_schedule_preview' );
		} catch ( Wp_Die_Exception $e ) {
			// wp_send_json() ends with wp_die().
			unset( $e );
		}
		return json_decode( (string) ob_get_clean(), true );
	}

	public function test_the_preview_lists_next_runs_in_the_site_timezone_and_retention_in_words(): void {
		update_option( 'timezone_string', 'America/New_York' );
		update_option( 'date_format', 'Y-m-d' );
		update_option( 'time_format', 'H:i' );
		$this->login_as( 'administrator' );
		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/schedules/preview$#', array( 200, array( 'nextRuns' => array( '2030-06-01T07:00:00.000Z' ), 'retentionSummary' => 'Keeps 7 daily; never fewer than 1.' ) ) );

		$json = $this->ajax(
			array(
				'_ajax_nonce' => wp_create_nonce( 'ss_schedule_preview' ),
				'ss_schedule' => array( 'name' => 'n', 'frequency' => 'cron', 'cron' => '0 3 * * *', 'timezone' => 'America/New_York', 'retention' => array( 'keepDaily' => '7', 'keepLast' => '' ) ),
			)
		);

		$this->assertTrue( $json['success'] );
		$this->assertSame( '2030-06-01 03:00', $json['data']['nextRuns'][0]['text'] );
		$this->assertSame( 'Keeps 7 daily; never fewer than 1.', $json['data']['retentionSummary'] );
		$body = json_decode( $sidecar->requests[0]['body'], true );
		$this->assertSame( array( 'name' => 'n', 'intervalMinutes' => null, 'cron' => '0 3 * * *', 'timezone' => 'America/New_York', 'retention' => array( 'keepDaily' => 7 ), 'enabled' => false, 'noReboot' => false ), $body );
	}

	public function test_a_name_not_typed_yet_does_not_hide_the_preview(): void {
		$this->login_as( 'administrator' );
		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/schedules/preview$#', array( 200, array( 'nextRuns' => array( '2030-06-01T07:00:00.000Z' ), 'retentionSummary' => 'Keeps the last 2; never fewer than 1.' ) ) );

		$json = $this->ajax(
			array(
				'_ajax_nonce' => wp_create_nonce( 'ss_schedule_preview' ),
				'ss_schedule' => array( 'name' => '', 'frequency' => 'interval', 'intervalMinutes' => '1', 'timezone' => 'UTC', 'retention' => array( 'keepLast' => '2' ) ),
			)
		);

		$this->assertTrue( $json['success'] );
		$this->assertSame( 'Keeps the last 2; never fewer than 1.', $json['data']['retentionSummary'] );
		$this->assertCount( 1, $json['data']['nextRuns'] );
		$body = json_decode( $sidecar->requests[0]['body'], true );
		$this->assertSame( 'New schedule', $body['name'] );
	}

	public function test_the_preview_refuses_users_without_the_capability(): void {
		$this->login_as( 'subscriber' );
		$sidecar = $this->fake_sidecar();

		$json = $this->ajax( array( '_ajax_nonce' => wp_create_nonce( 'ss_schedule_preview' ) ) );

		$this->assertFalse( $json['success'] );
		$this->assertSame( array(), $sidecar->requests );
	}
}
