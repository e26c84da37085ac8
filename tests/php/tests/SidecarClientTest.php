<?php
namespace ScheduledSnapshots\Tests;

use ScheduledSnapshots\Sidecar_Client;

final class SidecarClientTest extends Test_Case {

	public function test_when_the_sidecar_is_down_then_the_answer_is_a_wp_error_saying_how_to_start_it(): void {
		// No fake: SS_SIDECAR_URL points at a port where nothing listens.
		$result = Sidecar_Client::from_config()->get( '/api/v1/schedules' );

		$this->assertWPError( $result, 'ss_unreachable' );
		$this->assertStringContainsString( 'is not answering', $result->get_error_message() );
		$this->assertStringContainsString( 'npm start', $result->get_error_message() );
		$this->assertStringContainsString( SS_SIDECAR_URL, $result->get_error_message() );
	}

	public function test_when_the_secret_is_missing_then_nothing_is_sent_and_the_error_says_where_to_define_it(): void {
		$sidecar = $this->fake_sidecar();
		$client  = new Sidecar_Client( SS_SIDECAR_URL, null );

		$result = $client->get( '/api/v1/schedules' );

		$this->assertWPError( $result, 'ss_secret_missing' );
		$this->assertStringContainsString( 'wp-config.php', $result->get_error_message() );
		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_when_the_secret_is_too_short_then_nothing_is_sent_and_the_secret_is_not_shown(): void {
		$sidecar = $this->fake_sidecar();
		$client  = new Sidecar_Client( SS_SIDECAR_URL, 'short-secret-xyz' );

		$result = $client->get( '/api/v1/schedules' );

		$this->assertWPError( $result, 'ss_secret_short' );
		$this->assertStringContainsString( '16 characters', $result->get_error_message() );
		$this->assertStringNotContainsString( 'short-secret-xyz', $result->get_error_message() );
		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_when_the_signature_is_refused_then_the_error_names_the_secret_mismatch(): void {
		$this->fake_sidecar()->on( 'GET', '#^/api/v1/providers$#', array( 401, array( 'error' => array( 'code' => 'unauthorized', 'message' => 'The request signature does not match.' ) ) ) );

		$result = Sidecar_Client::from_config()->get( '/api/v1/providers' );

		$this->assertWPError( $result, 'ss_signature_refused' );
		$this->assertStringContainsString( 'SS_SHARED_SECRET', $result->get_error_message() );
		$this->assertStringContainsString( 'The request signature does not match.', $result->get_error_message() );
	}

	public function test_when_the_answer_is_not_json_then_the_error_says_so_without_a_php_warning(): void {
		$this->fake_sidecar()->on( 'GET', '#^/api/v1/schedules$#', array( 'raw' => '<html>proxy error</html>', 'status' => 200 ) );

		$result = Sidecar_Client::from_config()->get( '/api/v1/schedules' );

		$this->assertWPError( $result, 'ss_bad_response' );
		$this->assertStringNotContainsString( '<html>', $result->get_error_message() );
	}

	public function test_when_the_sidecar_fails_with_5xx_then_the_error_points_at_its_log(): void {
		$this->fake_sidecar()->on( 'GET', '#^/api/v1/schedules$#', array( 500, array( 'error' => array( 'code' => 'internal', 'message' => 'Something went wrong inside.' ) ) ) );

		$result = Sidecar_Client::from_config()->get( '/api/v1/schedules' );

		$this->assertWPError( $result, 'ss_bad_response' );
		$this->assertStringContainsString( 'HTTP 500', $result->get_error_message() );
		$this->assertStringContainsString( 'Something went wrong inside.', $result->get_error_message() );
	}

	public function test_when_validation_fails_then_the_field_messages_come_back_as_error_data(): void {
		$this->fake_sidecar()->on(
			'POST',
			'#^/api/v1/schedules$#',
			array( 400, array( 'error' => array( 'code' => 'validation_failed', 'message' => 'name: must not be empty', 'details' => array( 'fields' => array( 'name' => 'must not be empty', 'retention.keepDaily' => 'must be at least 0', 'bad' => array( 'not a string' ) ) ) ) ) )
		);

		$result = Sidecar_Client::from_config()->post( '/api/v1/schedules', array( 'name' => '' ) );

		$this->assertWPError( $result, 'ss_api_error' );
		$data = $result->get_error_data();
		$this->assertSame( 400, $data['status'] );
		$this->assertSame( array( 'name' => 'must not be empty', 'retention.keepDaily' => 'must be at least 0' ), $data['fields'] );
	}

	public function test_when_wordpress_blocks_outgoing_http_to_that_host_then_the_error_says_which_constant_to_set(): void {
		// WP_HTTP_BLOCK_EXTERNAL is on in the test copy; only localhost and the site's host pass.
		$client = new Sidecar_Client( 'http://192.0.2.10:8787', SS_SHARED_SECRET );

		$result = $client->get( '/api/v1/schedules' );

		$this->assertWPError( $result, 'ss_http_blocked' );
		$this->assertStringContainsString( 'WP_ACCESSIBLE_HOSTS', $result->get_error_message() );
	}

	public function test_when_the_address_is_not_http_then_nothing_is_sent(): void {
		$result = ( new Sidecar_Client( 'file:///etc', SS_SHARED_SECRET ) )->get( '/api/v1/schedules' );

		$this->assertWPError( $result, 'ss_bad_url' );
	}

	private function assertWPError( $value, string $code ): void {
		$this->assertInstanceOf( \WP_Error::class, $value );
		$this->assertSame( $code, $value->get_error_code(), $value->get_error_message() );
	}
}
