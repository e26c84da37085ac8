<?php
namespace ScheduledSnapshots\Tests;

/**
 * Every admin-post handler: capability first (403), then the nonce PHP gave the rendered form
 * for that action (403), and no call to the sidecar before both pass; then one forwarded call.
 */
final class AdminPostHandlersTest extends Test_Case {

	/**
	 * handler action → [object request key, object id, GET or POST, nonce action].
	 */
	public function handlers(): array {
		return array(
			'save schedule (new)'    => array( 'ss_save_schedule', 'schedule', 'new', 'post' ),
			'save schedule (edit)'   => array( 'ss_save_schedule', 'schedule', '7', 'post' ),
			'delete schedule'        => array( 'ss_delete_schedule', 'schedule', '7', 'post' ),
			'trash snapshot'         => array( 'ss_trash_snapshot', 'snapshot', '42', 'get' ),
			'delete snapshot record' => array( 'ss_delete_snapshot_record', 'snapshot', '42', 'get' ),
			'update snapshot'        => array( 'ss_update_snapshot', 'snapshot', '42', 'post' ),
			'take snapshot now'      => array( 'ss_take_snapshot', 'server', 'SERVER', 'post' ),
			'save settings'          => array( 'ss_save_settings', null, 'settings', 'post' ),
			'bulk actions'           => array( 'ss_bulk_snapshots', null, 'bulk', 'post' ),
			'send test message'      => array( 'ss_test_alerts', null, 'test', 'post' ),
		);
	}

	private function request( string $action, ?string $key, string $id, string $method, array $extra ): array {
		$args = array_merge( array( 'action' => $action ), null === $key ? array() : array( $key => $id ), $extra );
		return 'get' === $method ? array( $args, array() ) : array( array(), $args );
	}

	private function nonce_field( string $action ): string {
		return 'ss_bulk_snapshots' === $action ? 'ss_bulk_nonce' : '_wpnonce';
	}

	private function object_id( string $id ): string {
		return 'SERVER' === $id ? (string) $this->make_server() : $id;
	}

	/**
	 * @dataProvider handlers
	 */
	public function test_when_the_user_lacks_the_capability_then_the_handler_dies_403_and_calls_nothing( string $action, ?string $key, string $id, string $method ): void {
		$id = $this->object_id( $id );
		$this->login_as( 'editor' );
		$sidecar = $this->fake_sidecar();
		$nonce   = wp_create_nonce( $action );

		list( $get, $post ) = $this->request( $action, $key, $id, $method, array( $this->nonce_field( $action ) => $nonce ) );
		$outcome = $this->run_handler( 'admin_post_' . $action, $get, $post );

		$this->assertInstanceOf( Wp_Die_Exception::class, $outcome );
		$this->assertSame( 403, $outcome->status );
		$this->assertSame( array(), $sidecar->requests );
	}

	/**
	 * @dataProvider handlers
	 */
	public function test_when_the_nonce_is_missing_then_the_handler_dies_403_and_calls_nothing( string $action, ?string $key, string $id, string $method ): void {
		$id = $this->object_id( $id );
		$this->login_as( 'administrator' );
		$sidecar = $this->fake_sidecar();

		list( $get, $post ) = $this->request( $action, $key, $id, $method, array() );
		$outcome = $this->run_handler( 'admin_post_' . $action, $get, $post );

		$this->assertInstanceOf( Wp_Die_Exception::class, $outcome );
		$this->assertSame( 403, $outcome->status );
		$this->assertSame( array(), $sidecar->requests );
	}

	/**
	 * @dataProvider handlers
	 */
	public function test_when_the_nonce_belongs_to_another_action_then_the_handler_dies_403_and_calls_nothing( string $action, ?string $key, string $id, string $method ): void {
		$id = $this->object_id( $id );
		$this->login_as( 'administrator' );
		$sidecar = $this->fake_sidecar();
		$other   = wp_create_nonce( 'ss_trash_snapshot' === $action ? 'ss_save_settings' : 'ss_trash_snapshot' );

		list( $get, $post ) = $this->request( $action, $key, $id, $method, array( $this->nonce_field( $action ) => $other ) );
		$outcome = $this->run_handler( 'admin_post_' . $action, $get, $post );

		$this->assertInstanceOf( Wp_Die_Exception::class, $outcome );
		$this->assertSame( 403, $outcome->status );
		$this->assertSame( array(), $sidecar->requests );
	}

	public function test_when_an_admin_trashes_a_snapshot_then_the_sidecar_is_asked_and_the_list_says_what_happened(): void {
		$user    = $this->login_as( 'administrator' );
		$sidecar = $this->fake_sidecar()->on( 'DELETE', '#^/api/v1/snapshots/42$#', array( 200, array( 'deleted' => true, 'providerCopyKept' => true, 'message' => 'Removed from the list: Linode cannot delete a single snapshot through its API; the provider copy stays.' ) ) );

		$outcome = $this->run_handler( 'admin_post_ss_trash_snapshot', array( 'action' => 'ss_trash_snapshot', 'snapshot' => '42', '_wpnonce' => wp_create_nonce( 'ss_trash_snapshot' ) ) );

		$this->assertInstanceOf( Redirect_Exception::class, $outcome );
		$args = $this->query_args( $outcome->location );
		$this->assertSame( 'ss-snapshots', $args['page'] );
		$this->assertSame( 'snapshot-record-only', $args['ss_message'] );
		$request = $sidecar->requests_to( '/api/v1/snapshots/42', 'DELETE' )[0];
		$this->assertSame( (string) $user, $request['headers']['X-SS-Actor'] );
		$this->assertTrue( Fake_Sidecar::signature_is_valid( $request, SS_SHARED_SECRET ) );

		// The next render hands the code to the sidecar, whose views say it in the user's language.
		$_GET = $args;
		$this->assertSame( 'snapshot-record-only', \ScheduledSnapshots\Screens::context( 'snapshots' )['notice']['code'] );
	}

	public function test_when_the_sidecar_is_down_then_the_handler_redirects_with_the_reason_not_a_php_error(): void {
		$this->login_as( 'administrator' );

		$outcome = $this->run_handler( 'admin_post_ss_delete_snapshot_record', array( 'action' => 'ss_delete_snapshot_record', 'snapshot' => '42', '_wpnonce' => wp_create_nonce( 'ss_delete_snapshot_record' ) ) );

		$this->assertInstanceOf( Redirect_Exception::class, $outcome );
		$args = $this->query_args( $outcome->location );
		$this->assertSame( 'error', $args['ss_message'] );
		$detail = get_transient( 'ss_notice_' . get_current_user_id() . '_' . $args['ss_detail'] );
		$this->assertStringContainsString( 'is not answering', $detail );
	}

	public function test_when_a_schedule_is_refused_then_the_form_comes_back_with_what_was_typed_and_the_sidecars_messages(): void {
		$this->login_as( 'administrator' );
		$sidecar = $this->fake_sidecar()->on(
			'POST',
			'#^/ui/v1/forms/schedule$#',
			static function ( $request ) {
				$body = json_decode( $request['body'], true );
				return array( 200, array( 'saved' => false, 'values' => $body['values'], 'errors' => array( 'name' => 'The name must not be empty.' ) ) );
			}
		);
		$post = array(
			'action'      => 'ss_save_schedule',
			'schedule'    => 'new',
			'_wpnonce'    => wp_create_nonce( 'ss_save_schedule' ),
			'ss_schedule' => array( 'name' => '', 'frequency' => 'cron', 'cron' => '0 25 * * *', 'timezone' => 'Europe/Berlin', 'retention' => array( 'keepDaily' => '7' ), 'enabled' => '1' ),
		);

		$outcome = $this->run_handler( 'admin_post_ss_save_schedule', array(), $post );

		$this->assertInstanceOf( Redirect_Exception::class, $outcome );
		$args = $this->query_args( $outcome->location );
		$this->assertSame( 'new', $args['view'] );
		$this->assertSame( 'schedule-invalid', $args['ss_message'] );
		$sent = json_decode( $sidecar->requests_to( '/ui/v1/forms/schedule', 'POST' )[0]['body'], true );
		$this->assertSame( '0 25 * * *', $sent['values']['cron'], 'the form goes to the sidecar as typed' );
		$this->assertSame( get_user_locale(), $sent['ctx']['locale'] );
		$state = \ScheduledSnapshots\Notices::take_form_state( 'new' );
		$this->assertSame( 'The name must not be empty.', $state['errors']->name );
		$this->assertSame( '0 25 * * *', $state['values']->cron );
	}

	public function test_when_ticked_snapshots_get_a_bulk_action_then_one_request_carries_them_and_each_outcome_reaches_the_list(): void {
		$this->login_as( 'administrator' );
		$results = array( array( 'id' => 4, 'outcome' => 'trashed', 'message' => '' ), array( 'id' => 5, 'outcome' => 'delete-failed', 'message' => 'quota' ) );
		$sidecar = $this->fake_sidecar()->on( 'POST', '#^/api/v1/snapshots/bulk$#', array( 200, array( 'results' => $results ) ) );

		$outcome = $this->run_handler( 'admin_post_ss_bulk_snapshots', array(), array( 'action' => 'ss_bulk_snapshots', 'bulk_action' => 'trash', 'snapshots' => array( '4', '5', 'x' ), 'ss_bulk_nonce' => wp_create_nonce( 'ss_bulk_snapshots' ) ) );

		$bulk = $sidecar->requests_to( '/api/v1/snapshots/bulk', 'POST' );
		$this->assertCount( 1, $bulk );
		$this->assertSame( array( 'action' => 'trash', 'ids' => array( 4, 5 ) ), json_decode( $bulk[0]['body'], true ) );
		foreach ( array( 4, 5 ) as $id ) {
			$this->assertCount( 1, $sidecar->requests_to( '/api/v1/snapshots/' . $id, 'GET' ), 'each snapshot\'s server is checked first' );
		}
		$args = $this->query_args( $outcome->location );
		$this->assertSame( 'bulk-done', $args['ss_message'] );
		$_GET = $args;
		$this->assertSame( $results, \ScheduledSnapshots\Screens::context( 'snapshots' )['notice']['results'] );
	}

	public function test_when_the_user_may_not_manage_a_snapshots_server_then_trash_and_take_now_are_refused_and_nothing_is_sent(): void {
		$this->login_as( 'administrator' );
		$mine    = $this->make_server( 'mine' );
		$theirs  = $this->make_server( 'theirs' );
		$sidecar = $this->fake_sidecar()
			->on( 'GET', '#^/api/v1/snapshots/8$#', array( 200, array( 'snapshot' => array( 'id' => 8, 'serverId' => $theirs ) ) ) )
			->on( 'DELETE', '#^/api/v1/snapshots/8$#', array( 200, array( 'deleted' => true ) ) )
			->on( 'POST', '#^/api/v1/servers/\d+/snapshots$#', array( 201, array() ) );
		// The host's own per-server rule (WPCD: its team permissions), through the plugin's filter.
		$this->add_test_filter( 'ss_user_can_manage_server', static function ( $can, $server ) use ( $theirs ) { return $can && $server !== $theirs; }, 10, 2 );

		$trash = $this->run_handler( 'admin_post_ss_trash_snapshot', array(), array( 'action' => 'ss_trash_snapshot', 'snapshot' => '8', '_wpnonce' => wp_create_nonce( 'ss_trash_snapshot' ) ) );
		$take  = $this->run_handler( 'admin_post_ss_take_snapshot', array(), array( 'action' => 'ss_take_snapshot', 'server' => (string) $theirs, '_wpnonce' => wp_create_nonce( 'ss_take_snapshot' ) ) );
		$ok    = $this->run_handler( 'admin_post_ss_take_snapshot', array(), array( 'action' => 'ss_take_snapshot', 'server' => (string) $mine, '_wpnonce' => wp_create_nonce( 'ss_take_snapshot' ) ) );

		foreach ( array( $trash, $take ) as $refused ) {
			$this->assertInstanceOf( Wp_Die_Exception::class, $refused );
			$this->assertSame( 403, $refused->status );
			$this->assertStringContainsString( 'not allowed to manage the snapshots of this server', $refused->getMessage() );
		}
		$this->assertSame( array(), $sidecar->requests_to( '/api/v1/snapshots/8', 'DELETE' ) );
		$this->assertSame( array(), $sidecar->requests_to( '/api/v1/servers/' . $theirs . '/snapshots' ) );
		$this->assertInstanceOf( Redirect_Exception::class, $ok );
		$this->assertCount( 1, $sidecar->requests_to( '/api/v1/servers/' . $mine . '/snapshots', 'POST' ) );
	}

	public function test_when_a_schedule_is_deleted_then_the_list_says_how_many_snapshots_were_kept(): void {
		$this->login_as( 'administrator' );
		$sidecar = $this->fake_sidecar()->on( 'DELETE', '#^/api/v1/schedules/7$#', array( 200, array( 'deleted' => true, 'snapshotsKept' => 12, 'message' => 'x' ) ) );

		$outcome = $this->run_handler( 'admin_post_ss_delete_schedule', array(), array( 'action' => 'ss_delete_schedule', 'schedule' => '7', '_wpnonce' => wp_create_nonce( 'ss_delete_schedule' ) ) );

		$args = $this->query_args( $outcome->location );
		$this->assertSame( 'schedule-deleted', $args['ss_message'] );
		$this->assertSame( '12', $args['ss_count'] );
		$this->assertCount( 1, $sidecar->requests_to( '/api/v1/schedules/7', 'DELETE' ) );
	}

	public function test_when_protection_is_saved_then_the_date_is_the_end_of_that_day_in_the_site_timezone(): void {
		update_option( 'timezone_string', 'Europe/Berlin' );
		$this->login_as( 'administrator' );
		$sidecar = $this->fake_sidecar()->on( 'PATCH', '#^/api/v1/snapshots/42$#', array( 200, array( 'snapshot' => array( 'id' => 42 ) ) ) );

		$outcome = $this->run_handler(
			'admin_post_ss_update_snapshot',
			array(),
			array( 'action' => 'ss_update_snapshot', 'snapshot' => '42', '_wpnonce' => wp_create_nonce( 'ss_update_snapshot' ), 'keepForever' => '1', 'deleteNotBefore' => '2027-01-31', 'note' => '<b>keep</b> for audit' )
		);

		$this->assertSame( 'snapshot-updated', $this->query_args( $outcome->location )['ss_message'] );
		$body = json_decode( $sidecar->requests_to( '/api/v1/snapshots/42', 'PATCH' )[0]['body'], true );
		$this->assertSame( array( 'keepForever' => true, 'deleteNotBefore' => '2027-01-31T22:59:59.999Z', 'note' => '<b>keep</b> for audit' ), $body );
	}

	public function test_when_the_address_comes_from_wp_config_then_the_settings_form_cannot_change_it(): void {
		$this->login_as( 'administrator' );

		$outcome = $this->run_handler( 'admin_post_ss_save_settings', array(), array( 'action' => 'ss_save_settings', '_wpnonce' => wp_create_nonce( 'ss_save_settings' ), 'ss_sidecar_url' => 'http://127.0.0.1:1234' ) );

		$this->assertInstanceOf( Redirect_Exception::class, $outcome );
		$this->assertFalse( get_option( 'ss_sidecar_url' ) );
		$this->assertSame( SS_SIDECAR_URL, \ScheduledSnapshots\Config::sidecar_url() );
	}

	public function test_only_plain_http_and_https_addresses_are_sidecar_addresses(): void {
		$this->assertTrue( \ScheduledSnapshots\Config::is_valid_sidecar_url( 'http://127.0.0.1:8787' ) );
		$this->assertTrue( \ScheduledSnapshots\Config::is_valid_sidecar_url( 'https://snapshots.internal' ) );
		$this->assertFalse( \ScheduledSnapshots\Config::is_valid_sidecar_url( 'javascript:alert(1)' ) );
		$this->assertFalse( \ScheduledSnapshots\Config::is_valid_sidecar_url( 'http://user:pw@127.0.0.1:8787' ) );
		$this->assertFalse( \ScheduledSnapshots\Config::is_valid_sidecar_url( 'http://127.0.0.1:8787/?x=1' ) );
	}
}
