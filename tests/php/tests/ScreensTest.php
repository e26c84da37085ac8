<?php
namespace ScheduledSnapshots\Tests;

use ScheduledSnapshots\Screens;

/**
 * Every screen is one signed request to the sidecar, carrying what the views need (locale,
 * site timezone and formats, Screen Options, nonces PHP made); PHP prints the fragment it
 * gets. A sidecar that is down, slow or answers garbage gives an error notice instead.
 */
final class ScreensTest extends Test_Case {

	const FRAGMENT = '<div class="wrap ss-wrap" id="ss-rendered">drawn by the sidecar</div>';

	protected function setUp(): void {
		parent::setUp();
		$this->login_as( 'administrator' );
		update_option( 'timezone_string', 'Europe/Berlin' );
		update_option( 'date_format', 'j. F Y' );
		update_option( 'time_format', 'G:i' );
	}

	/** Screen slug, render method, query arguments → the sidecar screen asked for. */
	public function screens(): array {
		return array(
			'schedules list'   => array( 'ss-schedules', 'render_schedules', array(), 'schedules' ),
			'add schedule'     => array( 'ss-schedules', 'render_schedules', array( 'view' => 'new' ), 'schedule-form' ),
			'edit schedule'    => array( 'ss-schedules', 'render_schedules', array( 'view' => 'edit', 'schedule' => '7' ), 'schedule-form' ),
			'delete schedule'  => array( 'ss-schedules', 'render_schedules', array( 'view' => 'delete', 'schedule' => '7' ), 'schedule-delete' ),
			'snapshots list'   => array( 'ss-snapshots', 'render_snapshots', array( 'status' => 'failed' ), 'snapshots' ),
			'one snapshot'     => array( 'ss-snapshots', 'render_snapshots', array( 'view' => 'edit', 'snapshot' => '42' ), 'snapshot' ),
			'settings'         => array( 'ss-settings', 'render_settings', array(), 'settings' ),
		);
	}

	private function fragment_sidecar(): Fake_Sidecar {
		return $this->fake_sidecar()->on( 'GET', '#^/ui/v1/[a-z-]+$#', array( 'raw' => self::FRAGMENT, 'type' => 'text/html; charset=utf-8' ) );
	}

	private function context_of( array $request ): array {
		parse_str( (string) wp_parse_url( $request['url'], PHP_URL_QUERY ), $query );
		return json_decode( $query['ctx'], true );
	}

	/**
	 * @dataProvider screens
	 */
	public function test_when_a_screen_is_drawn_then_exactly_one_signed_request_is_made_and_its_fragment_printed( string $slug, string $method, array $get, string $screen ): void {
		set_current_screen( 'wpcd_app_server_page_' . $slug );
		$_GET    = array_merge( array( 'page' => $slug ), $get );
		$sidecar = $this->fragment_sidecar();

		$html = $this->render( array( Screens::class, $method ) );

		$this->assertSame( self::FRAGMENT, $html );
		$this->assertCount( 1, $sidecar->requests );
		$request = $sidecar->requests[0];
		$this->assertSame( '/ui/v1/' . $screen, strtok( $request['path'], '?' ) );
		$this->assertTrue( Fake_Sidecar::signature_is_valid( $request, SS_SHARED_SECRET ) );
		$this->assertSame( (string) get_current_user_id(), $request['headers']['X-SS-Actor'] );
		$ctx = $this->context_of( $request );
		$this->assertSame( 'Europe/Berlin', $ctx['timezone'] );
		$this->assertSame( 'j. F Y', $ctx['dateFormat'] );
		$this->assertSame( 'G:i', $ctx['timeFormat'] );
		$this->assertSame( get_user_locale(), $ctx['locale'] );
		foreach ( $get as $key => $value ) {
			$this->assertSame( $value, $ctx['args'][ $key ] );
		}
		foreach ( Screens::NONCES[ $screen ] as $action ) {
			$this->assertSame( 1, wp_verify_nonce( $ctx['nonces'][ $action ], $action ), "nonce for $action" );
		}
	}

	public function test_the_snapshots_list_passes_per_page_and_the_columns_hidden_in_screen_options(): void {
		$user = get_current_user_id();
		set_current_screen( 'wpcd_app_server_page_ss-snapshots' );
		update_user_option( $user, 'ss_snapshots_per_page', 50 );
		update_user_option( $user, 'manage' . get_current_screen()->id . 'columnshidden', array( 'size', 'provider' ) );
		Screens::load_snapshots();
		$_GET    = array( 'page' => 'ss-snapshots' );
		$sidecar = $this->fragment_sidecar();

		$this->render( array( Screens::class, 'render_snapshots' ) );

		$ctx = $this->context_of( $sidecar->requests[0] );
		$this->assertSame( 50, $ctx['perPage'] );
		$this->assertSame( array( 'size', 'provider' ), $ctx['hidden'] );
		$this->assertArrayHasKey( 'status', get_column_headers( get_current_screen() ), 'WordPress lists our columns in Screen Options' );
	}

	/** What a broken sidecar can do → what the notice must say. */
	public function failures(): array {
		return array(
			'down'         => array( null, 'is not answering' ),
			'json, not html' => array( array( 200, array( 'items' => array() ) ), 'without a usable reply' ),
			'5xx'          => array( array( 500, array( 'error' => array( 'code' => 'internal', 'message' => 'boom' ) ) ), 'read the sidecar' ),
			'refused'      => array( array( 401, array( 'error' => array( 'code' => 'unauthorized', 'message' => 'bad signature' ) ) ), 'SS_SHARED_SECRET' ),
		);
	}

	/**
	 * @dataProvider failures
	 */
	public function test_when_the_sidecar_fails_then_the_screen_is_its_title_and_an_error_notice_never_half_a_page( ?array $answer, string $says ): void {
		set_current_screen( 'wpcd_app_server_page_ss-snapshots' );
		$_GET = array( 'page' => 'ss-snapshots' );
		if ( null !== $answer ) {
			$this->fake_sidecar()->on( 'GET', '#^/ui/v1/snapshots$#', $answer );
		}

		$html = $this->render( array( Screens::class, 'render_snapshots' ) );

		$this->assertStringContainsString( 'notice notice-error', $html );
		$this->assertStringContainsString( $says, $html );
		$this->assertStringNotContainsString( 'wp-list-table', $html );
		$this->assertSame( 1, substr_count( $html, '<div' ) - substr_count( $html, '<div class="notice' ) );
	}

	public function test_when_the_sidecar_is_down_the_settings_screen_still_offers_the_address_field(): void {
		set_current_screen( 'wpcd_app_server_page_ss-settings' );
		$html = $this->render( array( Screens::class, 'render_settings' ) );
		$this->assertStringContainsString( 'is not answering', $html );
		$this->assertStringNotContainsString( SS_SHARED_SECRET, $html );
	}

	public function test_when_the_user_lacks_the_capability_then_no_request_is_made(): void {
		$this->login_as( 'editor' );
		$sidecar = $this->fragment_sidecar();
		$_GET    = array( 'page' => 'ss-schedules' );
		try {
			$this->render( array( Screens::class, 'render_schedules' ) );
			$this->fail( 'no 403' );
		} catch ( Wp_Die_Exception $e ) {
			$this->assertSame( 403, $e->status );
		}
		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_after_an_action_the_next_render_carries_its_notice_once(): void {
		$url = \ScheduledSnapshots\Notices::url( 'http://example.test/wp-admin/admin.php?page=ss-snapshots', 'error', null, 'The provider said <b>no</b>.' );
		$_GET = $this->query_args( $url );
		$sidecar = $this->fragment_sidecar();
		set_current_screen( 'wpcd_app_server_page_ss-snapshots' );

		$this->render( array( Screens::class, 'render_snapshots' ) );
		\ScheduledSnapshots\Notices::forget();
		$this->render( array( Screens::class, 'render_snapshots' ) );

		$first  = $this->context_of( $sidecar->requests[0] );
		$second = $this->context_of( $sidecar->requests[1] );
		$this->assertSame( array( 'code' => 'error', 'count' => 0, 'detail' => 'The provider said <b>no</b>.' ), $first['notice'] );
		$this->assertSame( '', $second['notice']['detail'], 'the sentence is shown once' );
	}
}
