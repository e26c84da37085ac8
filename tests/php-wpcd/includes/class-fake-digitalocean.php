<?php
/**
 * DigitalOcean's API as WPCloudDeploy's own DigitalOcean class uses it, on WordPress's HTTP
 * seam (pre_http_request): the droplet lookup WPCD makes before a snapshot, the snapshot
 * action (answered with an action id, as DigitalOcean does) and empty lists for WPCD's
 * connection tests. Every other outgoing request is refused, so nothing leaves the machine.
 */

namespace ScheduledSnapshots\Tests;

final class Fake_DigitalOcean {

	const API = 'https://api.digitalocean.com/v2/';

	/** @var array<int,array{method:string,path:string,headers:array,body:string}> */
	public $requests = array();

	/** @var int */
	public $next_action_id = 2000000003;

	public function __construct() {
		add_filter( 'pre_http_request', array( $this, 'intercept' ), 20, 3 );
	}

	public function remove(): void {
		remove_filter( 'pre_http_request', array( $this, 'intercept' ), 20 );
	}

	/**
	 * @param false|array|\WP_Error $pre
	 * @return false|array|\WP_Error
	 */
	public function intercept( $pre, $args, $url ) {
		if ( false !== $pre ) {
			return $pre; // the fake sidecar answered
		}
		if ( 0 === strpos( $url, 'http://127.0.0.1:' ) ) {
			return $pre; // a real sidecar started by the test
		}
		if ( 0 !== strpos( $url, self::API ) ) {
			return new \WP_Error( 'http_request_not_executed', 'The test site is offline: ' . $url );
		}
		$path             = '/' . ltrim( (string) strtok( substr( $url, strlen( self::API ) ), '?' ), '/' );
		$method           = strtoupper( $args['method'] ?? 'GET' );
		$this->requests[] = array(
			'method'  => $method,
			'path'    => $path,
			'headers' => $args['headers'] ?? array(),
			'body'    => (string) ( $args['body'] ?? '' ),
		);
		if ( 'GET' === $method && preg_match( '#^/droplets/(\d+)/?$#', $path, $m ) ) {
			$droplet = array(
				'id'       => (int) $m[1],
				'name'     => 'web-' . $m[1],
				'status'   => 'active',
				'image'    => array( 'distribution' => 'Ubuntu', 'name' => '22.04 (LTS) x64' ),
				'networks' => array( 'v4' => array( array( 'type' => 'public', 'ip_address' => '203.0.113.10' ) ), 'v6' => array() ),
			);
			return self::answer( 200, array( 'droplet' => $droplet ) );
		}
		if ( 'POST' === $method && preg_match( '#^/droplets/(\d+)/actions/?$#', $path, $m ) ) {
			$id = $this->next_action_id++;
			return self::answer( 201, array( 'action' => array( 'id' => $id, 'status' => 'in-progress', 'type' => 'snapshot', 'resource_id' => (int) $m[1], 'resource_type' => 'droplet' ) ) );
		}
		return self::answer( 200, array( 'sizes' => array(), 'ssh_keys' => array(), 'regions' => array(), 'snapshots' => array(), 'meta' => array( 'total' => 0 ) ) );
	}

	/** Requests to a path (regex), optionally one method. */
	public function requests_to( string $pattern, ?string $method = null ): array {
		return array_values(
			array_filter(
				$this->requests,
				static function ( $r ) use ( $pattern, $method ) {
					return preg_match( $pattern, $r['path'] ) && ( null === $method || $r['method'] === $method );
				}
			)
		);
	}

	private static function answer( int $status, array $body ): array {
		return array(
			'headers'  => array( 'content-type' => 'application/json' ),
			'body'     => wp_json_encode( $body ),
			'response' => array(
				'code'    => $status,
				'message' => get_status_header_desc( $status ),
			),
			'cookies'  => array(),
			'filename' => null,
		);
	}
}
