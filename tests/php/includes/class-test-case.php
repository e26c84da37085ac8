<?php
/**
 * Base for the plugin's tests: one database transaction per test (rolled back after),
 * wp_die() and redirects turned into exceptions the test can inspect, a fake sidecar on
 * WordPress's HTTP seam, and a check that our code wrote nothing to debug.log.
 */

namespace ScheduledSnapshots\Tests;

use PHPUnit\Framework\TestCase as PHPUnitTestCase;

class Wp_Die_Exception extends \Exception {
	/** @var int */
	public $status;

	public function __construct( string $message, int $status ) {
		parent::__construct( $message );
		$this->status = $status;
	}
}

class Redirect_Exception extends \Exception {
	/** @var string */
	public $location;

	public function __construct( string $location ) {
		parent::__construct( 'redirect to ' . $location );
		$this->location = $location;
	}
}

abstract class Test_Case extends PHPUnitTestCase {

	/** @var Fake_Sidecar|null */
	protected $sidecar = null;

	/** @var int */
	private $log_offset = 0;

	/** @var array<string,mixed> superglobals before the test */
	private $saved_globals = array();

	/** @var array<int,array{0:string,1:callable,2:int}> */
	private $added_filters = array();

	protected function setUp(): void {
		parent::setUp();
		global $wpdb;
		$wpdb->query( 'SET autocommit = 0' );
		$wpdb->query( 'START TRANSACTION' );
		wp_cache_flush();
		clearstatcache();
		$this->log_offset    = is_file( SS_TESTS_DEBUG_LOG ) ? (int) filesize( SS_TESTS_DEBUG_LOG ) : 0;
		$this->saved_globals = array(
			'_GET'     => $_GET,
			'_POST'    => $_POST,
			'_REQUEST' => $_REQUEST,
			'_SERVER'  => $_SERVER,
		);
		$this->add_test_filter( 'wp_die_handler', array( $this, 'die_handler_name' ) );
		$this->add_test_filter( 'wp_die_ajax_handler', array( $this, 'die_handler_name' ) );
		$this->add_test_filter( 'wp_redirect', array( $this, 'throw_on_redirect' ), PHP_INT_MAX );
		wp_set_current_user( 0 );
	}

	protected function tearDown(): void {
		global $wpdb;
		if ( $this->sidecar ) {
			$this->sidecar->remove();
			$this->sidecar = null;
		}
		\ScheduledSnapshots\Notices::forget();
		foreach ( $this->added_filters as list( $hook, $callback, $priority ) ) {
			remove_filter( $hook, $callback, $priority );
		}
		$this->added_filters = array();
		$wpdb->query( 'ROLLBACK' );
		$wpdb->query( 'SET autocommit = 1' );
		wp_cache_flush();
		foreach ( $this->saved_globals as $name => $value ) {
			$GLOBALS[ $name ] = $value;
		}
		wp_set_current_user( 0 );
		if ( function_exists( 'get_current_screen' ) ) {
			$GLOBALS['current_screen'] = null;
		}
		$this->assert_no_log_lines_from_our_code();
		parent::tearDown();
	}

	protected function add_test_filter( string $hook, callable $callback, int $priority = 10, int $args = 1 ): void {
		add_filter( $hook, $callback, $priority, $args );
		$this->added_filters[] = array( $hook, $callback, $priority );
	}

	/** wp_die_handler filter: our handler's callable. */
	public function die_handler_name() {
		return array( $this, 'die_handler' );
	}

	/**
	 * @param mixed $message
	 * @param mixed $title
	 * @param mixed $args
	 */
	public function die_handler( $message, $title = '', $args = array() ): void {
		$status = 500;
		if ( is_array( $args ) && isset( $args['response'] ) ) {
			$status = (int) $args['response'];
		} elseif ( is_int( $args ) ) {
			$status = $args;
		} elseif ( is_int( $title ) ) {
			$status = $title;
		}
		if ( $message instanceof \WP_Error ) {
			$message = $message->get_error_message();
		}
		throw new Wp_Die_Exception( is_scalar( $message ) ? (string) $message : '', $status );
	}

	/** wp_redirect filter: stop at the redirect, before header() and exit. */
	public function throw_on_redirect( $location ) {
		throw new Redirect_Exception( (string) $location );
	}

	/**
	 * A fake sidecar at the configured address (SS_SIDECAR_URL).
	 */
	protected function fake_sidecar(): Fake_Sidecar {
		if ( ! $this->sidecar ) {
				$this->sidecar = new Fake_Sidecar( \ScheduledSnapshots\Config::sidecar_url() );
		}
		return $this->sidecar;
	}

	protected function make_user( string $role ): int {
		$id = wp_insert_user(
			array(
				'user_login' => $role . '_' . wp_generate_password( 8, false ),
				'user_pass'  => wp_generate_password( 16 ),
				'user_email' => wp_generate_password( 8, false ) . '@example.test',
				'role'       => $role,
			)
		);
		$this->assertIsInt( $id );
		return $id;
	}

	protected function login_as( string $role ): int {
		$id = $this->make_user( $role );
		wp_set_current_user( $id );
		return $id;
	}

	protected function make_server( string $name = 'web-1', string $provider = 'sandbox' ): int {
		$id = wp_insert_post(
			array(
				'post_type'   => 'wpcd_app_server',
				'post_status' => 'private',
				'post_title'  => $name,
				'meta_input'  => array(
					'wpcd_server_provider'             => $provider,
					'wpcd_server_provider_instance_id' => 'sbx-i-1',
				),
			),
			true
		);
		$this->assertIsInt( $id );
		return $id;
	}

	/**
	 * Run a request handler with these GET/POST values; return what stopped it.
	 *
	 * @return Wp_Die_Exception|Redirect_Exception
	 */
	protected function run_handler( string $hook, array $get = array(), array $post = array() ) {
		$_GET                      = $get;
		$_POST                     = $post;
		$_REQUEST                  = array_merge( $get, $post );
		$_SERVER['REQUEST_METHOD'] = $post ? 'POST' : 'GET';
		try {
			do_action( $hook );
		} catch ( Wp_Die_Exception $e ) {
			return $e;
		} catch ( Redirect_Exception $e ) {
			return $e;
		}
		$this->fail( "$hook neither redirected nor died" );
	}

	/** Output of a callable. */
	protected function render( callable $callable ): string {
		ob_start();
		try {
			$callable();
		} finally {
			$html = (string) ob_get_clean();
		}
		return $html;
	}

	protected function query_args( string $url ): array {
		parse_str( (string) wp_parse_url( $url, PHP_URL_QUERY ), $args );
		return $args;
	}

	/**
	 * Any notice, warning, error or deprecation logged from our plugin's files fails the test.
	 * (Core's own PHP 8.2 deprecations are left alone.)
	 */
	private function assert_no_log_lines_from_our_code(): void {
		clearstatcache();
		if ( ! is_file( SS_TESTS_DEBUG_LOG ) ) {
			return;
		}
		$size = (int) filesize( SS_TESTS_DEBUG_LOG );
		if ( $size <= $this->log_offset ) {
			return;
		}
		$new  = (string) file_get_contents( SS_TESTS_DEBUG_LOG, false, null, $this->log_offset, $size - $this->log_offset );
		$ours = array();
		foreach ( preg_split( '/\R/', $new ) as $line ) {
			foreach ( SS_TESTS_PLUGIN_DIRS as $dir ) {
				if ( '' !== $line && ( false !== strpos( $line, $dir ) || false !== strpos( $line, '/plugins/scheduled-snapshots/' ) || false !== strpos( $line, '/plugins/ss-host-standin/' ) ) ) {
					$ours[] = $line;
					break;
				}
			}
		}
		$this->assertSame( array(), $ours, "PHP logged from our plugin's code:\n" . implode( "\n", $ours ) );
	}
}
