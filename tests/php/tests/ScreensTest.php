<?php
namespace ScheduledSnapshots\Tests;

use ScheduledSnapshots\Schedules_Screen;
use ScheduledSnapshots\Settings_Screen;
use ScheduledSnapshots\Sidecar_Client;
use ScheduledSnapshots\Snapshots_Screen;

/**
 * The screens print what the sidecar says as text: hostile values never become markup.
 */
final class ScreensTest extends Test_Case {

	const HOSTILE = '<script>alert(1)</script>';

	protected function setUp(): void {
		parent::setUp();
		$this->login_as( 'administrator' );
		update_option( 'timezone_string', 'Europe/Berlin' );
		update_option( 'date_format', 'Y-m-d' );
		update_option( 'time_format', 'H:i' );
	}

	private function screen( string $slug ): void {
		set_current_screen( 'wpcd_app_server_page_' . $slug );
	}

	private function assert_no_hostile_markup( string $html ): void {
		$this->assertStringNotContainsString( '<script>alert(1)', $html );
		$this->assertStringNotContainsString( '<img src=x', $html );
		$this->assertStringNotContainsString( '" onmouseover="', $html );
	}

	private function hostile_schedule( array $over = array() ): array {
		return array_merge(
			array(
				'id'               => 7,
				'name'             => self::HOSTILE,
				'intervalMinutes'  => null,
				'cron'             => '0 3 * * *',
				'timezone'         => 'Europe/Berlin',
				'frequency'        => '<img src=x onerror=alert(2)>',
				'retention'        => array( 'keepDaily' => 7 ),
				'retentionSummary' => '<b onmouseover="alert(3)">Keeps 7 daily</b>',
				'enabled'          => true,
				'serverCount'      => 2,
				'nextRunAt'        => '2030-01-01T02:00:00.000Z',
			),
			$over
		);
	}

	public function test_the_schedules_list_shows_hostile_names_as_text_and_times_in_the_site_timezone(): void {
		$this->screen( 'ss-schedules' );
		$this->fake_sidecar()->on( 'GET', '#^/api/v1/schedules$#', array( 200, array( 'items' => array( $this->hostile_schedule(), array( 'id' => '1 or 1=1' ), 'junk' ) ) ) );
		$_GET = array( 'page' => 'ss-schedules' );

		$html = $this->render( array( Schedules_Screen::class, 'render' ) );

		$this->assertStringContainsString( '&lt;script&gt;alert(1)&lt;/script&gt;', $html );
		$this->assertStringContainsString( '&lt;img src=x onerror=alert(2)&gt;', $html );
		$this->assertStringContainsString( '2030-01-01 03:00', $html, 'UTC 02:00 is 03:00 in Berlin' );
		$this->assertStringContainsString( 'id="ss-add-schedule"', $html );
		$this->assertStringContainsString( '2 servers', $html );
		$this->assertSame( 1, substr_count( $html, 'data-schedule-id=' ), 'rows with an unusable id are dropped' );
		$this->assert_no_hostile_markup( $html );
	}

	public function test_the_schedules_screen_says_when_the_sidecar_is_down(): void {
		$this->screen( 'ss-schedules' );
		$_GET = array( 'page' => 'ss-schedules' );

		$html = $this->render( array( Schedules_Screen::class, 'render' ) );

		$this->assertStringContainsString( 'notice-error', $html );
		$this->assertStringContainsString( 'is not answering', $html );
		$this->assertStringContainsString( 'npm start', $html );
	}

	public function test_the_edit_form_and_delete_confirmation_show_hostile_names_as_text(): void {
		$this->screen( 'ss-schedules' );
		$this->fake_sidecar()
			->on( 'GET', '#^/api/v1/schedules/7$#', array( 200, array( 'schedule' => $this->hostile_schedule() ) ) )
			->on( 'POST', '#^/api/v1/schedules/preview$#', array( 200, array( 'nextRuns' => array( '2030-01-01T02:00:00.000Z', 'not a date' ), 'retentionSummary' => self::HOSTILE ) ) );

		$_GET = array( 'page' => 'ss-schedules', 'view' => 'edit', 'schedule' => '7' );
		$form = $this->render( array( Schedules_Screen::class, 'render' ) );
		$_GET = array( 'page' => 'ss-schedules', 'view' => 'delete', 'schedule' => '7' );
		$confirm = $this->render( array( Schedules_Screen::class, 'render' ) );

		$this->assertStringContainsString( 'value="&lt;script&gt;alert(1)&lt;/script&gt;"', $form );
		$this->assertStringContainsString( '2030-01-01 03:00', $form );
		$this->assertStringContainsString( 'value="0 3 * * *"', $form );
		$this->assert_no_hostile_markup( $form );
		$this->assertStringContainsString( 'Its snapshots are kept.', $confirm );
		$this->assertStringContainsString( '2 servers use this schedule', $confirm );
		$this->assertStringContainsString( '&lt;script&gt;', $confirm );
		$this->assert_no_hostile_markup( $confirm );
	}

	private function hostile_snapshot( array $over = array() ): array {
		return array_merge(
			array(
				'id'                 => 42,
				'serverId'           => 4,
				'serverName'         => self::HOSTILE,
				'provider'           => '<img src=x onerror=alert(5)>',
				'providerSnapshotId' => '" onmouseover="alert(6)',
				'name'               => 'ss-42-web',
				'origin'             => 'scheduled',
				'scheduleId'         => 7,
				'scheduleName'       => self::HOSTILE,
				'status'             => 'delete_failed',
				'keepForever'        => false,
				'deleteNotBefore'    => null,
				'createdAt'          => '2030-01-01T02:00:00.000Z',
				'lastError'          => '<img src=x onerror=alert(7)>',
				'sizeBytes'          => 2147483648,
				'note'               => '</textarea><script>alert(1)</script>',
				'protection'         => null,
				'canDelete'          => false,
				'serverProblem'      => null,
			),
			$over
		);
	}

	public function test_the_snapshots_list_escapes_every_column_and_warns_before_trashing_what_the_provider_keeps(): void {
		$this->screen( 'ss-snapshots' );
		Snapshots_Screen::load();
		$sidecar = $this->fake_sidecar()
			->on( 'GET', '#^/api/v1/snapshots$#', array( 200, array( 'items' => array( $this->hostile_snapshot() ), 'nextCursor' => 'c41' ) ) )
			->on( 'GET', '#^/api/v1/servers$#', array( 200, array( 'items' => array( array( 'id' => 4, 'name' => self::HOSTILE, 'provider' => 'x' ) ) ) ) )
			->on( 'GET', '#^/api/v1/schedules$#', array( 200, array( 'items' => array( $this->hostile_schedule() ) ) ) );
		$_GET = array( 'page' => 'ss-snapshots', 'status' => 'delete_failed', 'serverId' => '4', 'origin' => 'nonsense' );

		$html = $this->render( array( Snapshots_Screen::class, 'render' ) );

		$this->assert_no_hostile_markup( $html );
		$this->assertStringContainsString( '&lt;img src=x onerror=alert(7)&gt;', $html, 'the failure reason is shown, as text' );
		$this->assertStringContainsString( '2030-01-01 03:00', $html );
		$this->assertStringContainsString( '2.0 GB', $html );
		$this->assertMatchesRegularExpression( '#class="submitdelete ss-action-trash" data-ss-confirm="[^"]*the copy at the provider stays[^"]*" data-can-delete="0"#', $html );
		$this->assertStringContainsString( 'Delete Record', $html );
		$this->assertStringContainsString( 'Older →', $html );
		$this->assertStringNotContainsString( '← Newer', $html, 'first page' );
		$list = $sidecar->requests_to( '/api/v1/snapshots' )[0];
		$this->assertSame( '/api/v1/snapshots?serverId=4&status=delete_failed&limit=20', $list['path'], 'filters pass through; an unknown origin does not' );
	}

	public function test_keyset_pages_go_older_with_the_cursor_and_back_newer_through_the_trail(): void {
		$this->screen( 'ss-snapshots' );
		Snapshots_Screen::load();
		$sidecar = $this->fake_sidecar()
			->on( 'GET', '#^/api/v1/snapshots$#', array( 200, array( 'items' => array( $this->hostile_snapshot() ), 'nextCursor' => 'c20' ) ) )
			->on( 'GET', '#^/api/v1/servers$#', array( 200, array( 'items' => array() ) ) )
			->on( 'GET', '#^/api/v1/schedules$#', array( 200, array( 'items' => array() ) ) );
		$_GET = array( 'page' => 'ss-snapshots', 'origin' => 'manual', 'cursor' => 'c40', 'ss_prev' => '-,c60' );

		$html = $this->render( array( Snapshots_Screen::class, 'render' ) );

		$this->assertStringContainsString( 'cursor=c40', $sidecar->requests_to( '/api/v1/snapshots' )[0]['path'] );
		preg_match( '#<a class="button ss-page-older" href="([^"]+)"#', $html, $older );
		preg_match( '#<a class="button ss-page-newer" href="([^"]+)"#', $html, $newer );
		$older = $this->query_args( html_entity_decode( $older[1] ) );
		$newer = $this->query_args( html_entity_decode( $newer[1] ) );
		$this->assertSame( array( 'c20', '-,c60,c40', 'manual' ), array( $older['cursor'], $older['ss_prev'], $older['origin'] ) );
		$this->assertSame( array( 'c60', '-', 'manual' ), array( $newer['cursor'], $newer['ss_prev'], $newer['origin'] ) );
	}

	public function test_the_snapshot_edit_screen_shows_protection_note_and_history_as_text(): void {
		$this->screen( 'ss-snapshots' );
		$this->fake_sidecar()
			->on( 'GET', '#^/api/v1/snapshots/42$#', array( 200, array( 'snapshot' => $this->hostile_snapshot( array( 'keepForever' => true, 'deleteNotBefore' => '2027-01-31T22:59:59.999Z' ) ) ) ) )
			->on( 'GET', '#^/api/v1/snapshots/42/events$#', array( 200, array( 'items' => array( array( 'id' => 1, 'at' => '2030-01-01T02:00:00.000Z', 'actor' => (string) get_current_user_id(), 'action' => 'updated', 'detail' => self::HOSTILE ), array( 'id' => 2, 'at' => '2030-01-01T01:00:00.000Z', 'actor' => 'scheduler', 'action' => 'available', 'detail' => null ) ) ) ) );
		$_GET = array( 'page' => 'ss-snapshots', 'view' => 'edit', 'snapshot' => '42' );

		$html = $this->render( array( Snapshots_Screen::class, 'render' ) );

		$this->assert_no_hostile_markup( $html );
		$this->assertStringContainsString( '&lt;/textarea&gt;&lt;script&gt;', $html, 'the note stays inside its textarea' );
		$this->assertMatchesRegularExpression( '#id="ss-keep-forever" value="1"\s+checked#', $html );
		$this->assertStringContainsString( 'value="2027-01-31"', $html, 'the date the admin chose, in the site timezone' );
		$this->assertStringContainsString( get_userdata( get_current_user_id() )->display_name, $html );
		$this->assertStringContainsString( 'Scheduler', $html );
		$this->assertStringContainsString( 'cannot delete snapshots through its API', $html );
		$this->assertStringContainsString( 'id="ss-snapshot-history"', $html );
	}

	public function test_the_snapshot_edit_screen_says_what_retention_will_do_with_it_as_text(): void {
		$this->screen( 'ss-snapshots' );
		$snapshot              = $this->hostile_snapshot();
		$snapshot['retention'] = array( 'action' => 'keep', 'reasons' => array( 'kept: last #1, daily #1', self::HOSTILE ) );
		$this->fake_sidecar()
			->on( 'GET', '#^/api/v1/snapshots/42$#', array( 200, array( 'snapshot' => $snapshot ) ) )
			->on( 'GET', '#^/api/v1/snapshots/42/events$#', array( 200, array( 'items' => array() ) ) );
		$_GET = array( 'page' => 'ss-snapshots', 'view' => 'edit', 'snapshot' => '42' );

		$html = $this->render( array( Snapshots_Screen::class, 'render' ) );

		$this->assert_no_hostile_markup( $html );
		$this->assertMatchesRegularExpression( '#<th scope="row">Retention</th><td>kept: last \#1, daily \#1; &lt;script&gt;#', $html );
	}

	public function test_the_connection_check_says_exactly_what_is_wrong(): void {
		$missing = Settings_Screen::check_connection( new Sidecar_Client( SS_SIDECAR_URL, null ) );
		$down    = Settings_Screen::check_connection( Sidecar_Client::from_config() );
		$this->fake_sidecar()
			->on( 'GET', '#^/healthz$#', array( 200, array( 'status' => 'ok' ) ) )
			->on( 'GET', '#^/api/v1/providers$#', array( 401, array( 'error' => array( 'code' => 'unauthorized', 'message' => 'The request signature does not match.' ) ) ) );
		$refused = Settings_Screen::check_connection( Sidecar_Client::from_config() );
		$this->sidecar->on( 'GET', '#^/api/v1/providers$#', array( 200, array( 'items' => array() ) ) );
		$fine = Settings_Screen::check_connection( Sidecar_Client::from_config() );

		$codes = static function ( array $steps ): array {
			return array_column( $steps, 'code', 'id' );
		};
		$this->assertSame( array( 'secret' => 'ss_secret_missing', 'reachable' => 'ss_unreachable', 'signature' => 'not-tried' ), $codes( $missing ) );
		$this->assertSame( array( 'secret' => 'ok', 'reachable' => 'ss_unreachable', 'signature' => 'not-tried' ), $codes( $down ) );
		$this->assertSame( array( 'secret' => 'ok', 'reachable' => 'ok', 'signature' => 'ss_signature_refused' ), $codes( $refused ) );
		$this->assertSame( array( 'secret' => 'ok', 'reachable' => 'ok', 'signature' => 'ok' ), $codes( $fine ) );
	}

	public function test_the_settings_screen_never_prints_the_secret(): void {
		$this->screen( 'ss-settings' );

		$html = $this->render( array( Settings_Screen::class, 'render' ) );

		$this->assertStringNotContainsString( SS_SHARED_SECRET, $html );
		$this->assertStringContainsString( 'id="ss-check-reachable" data-state="failed"', $html );
	}
}
