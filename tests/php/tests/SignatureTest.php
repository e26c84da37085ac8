<?php
namespace ScheduledSnapshots\Tests;

use ScheduledSnapshots\Request_Signature;
use ScheduledSnapshots\Sidecar_Client;

final class SignatureTest extends Test_Case {

	public function test_the_design_test_vector_signs_to_the_agreed_hex(): void {
		$signature = Request_Signature::sign(
			str_repeat( 's', 32 ),
			'GET',
			'/api/v1/schedules',
			'1700000000',
			str_repeat( 'n', 16 ),
			'1',
			''
		);
		$this->assertSame( '7a867d66e1fb9647be9ff4fd040e83a66aea36579a9f6fe8fe9e1fae578a3c2e', $signature );
	}

	public function test_the_signed_string_is_method_path_timestamp_nonce_actor_and_body_hash_on_lines(): void {
		$this->assertSame(
			"POST\n/api/v1/schedules?x=1\n1700000000\nnonce-nonce-nonce\nsystem\n" . hash( 'sha256', '{"a":1}' ),
			Request_Signature::canonical( 'post', '/api/v1/schedules?x=1', '1700000000', 'nonce-nonce-nonce', 'system', '{"a":1}' )
		);
	}

	public function test_nonces_are_long_enough_and_fresh_each_time(): void {
		$a = Request_Signature::new_nonce();
		$b = Request_Signature::new_nonce();
		$this->assertGreaterThanOrEqual( 16, strlen( $a ) );
		$this->assertMatchesRegularExpression( '/^[A-Za-z0-9_-]+$/', $a, 'the sidecar accepts letters, digits, _ and - only' );
		$this->assertNotSame( $a, $b );
	}

	public function test_when_a_user_is_logged_in_then_requests_are_signed_as_that_user(): void {
		$user    = $this->login_as( 'administrator' );
		$sidecar = $this->fake_sidecar()->on( 'GET', '#^/api/v1/schedules$#', array( 200, array( 'items' => array() ) ) );

		$result = Sidecar_Client::from_config()->get( '/api/v1/schedules', array( 'limit' => 5, 'empty' => '' ) );

		$this->assertSame( array( 'items' => array() ), $result );
		$this->assertCount( 1, $sidecar->requests );
		$request = $sidecar->requests[0];
		$this->assertSame( '/api/v1/schedules?limit=5', $request['path'], 'empty query values are left out' );
		$this->assertSame( (string) $user, $request['headers']['X-SS-Actor'] );
		$this->assertEqualsWithDelta( time(), (int) $request['headers']['X-SS-Timestamp'], 5 );
		$this->assertTrue( Fake_Sidecar::signature_is_valid( $request, SS_SHARED_SECRET ) );
		$this->assertLessThanOrEqual( 10, $request['timeout'], 'screens must not hang on a slow sidecar' );
	}

	public function test_when_nobody_is_logged_in_then_the_actor_is_system_and_the_body_is_signed(): void {
		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/schedules$#', array( 201, array( 'schedule' => array( 'id' => 1 ) ) ) );

		Sidecar_Client::from_config()->post( '/api/v1/schedules', array( 'name' => 'Nightly ü' ) );

		$request = $sidecar->requests[0];
		$this->assertSame( 'system', $request['headers']['X-SS-Actor'] );
		$this->assertSame( 'application/json', $request['headers']['Content-Type'] );
		$this->assertSame( array( 'name' => 'Nightly ü' ), json_decode( $request['body'], true ) );
		$this->assertTrue( Fake_Sidecar::signature_is_valid( $request, SS_SHARED_SECRET ) );
		$tampered         = $request;
		$tampered['body'] = '{"name":"other"}';
		$this->assertFalse( Fake_Sidecar::signature_is_valid( $tampered, SS_SHARED_SECRET ), 'the body is part of the signature' );
	}
}
