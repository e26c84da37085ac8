<?php
/**
 * A stand-in for the sidecar's HTTP API, plugged into WordPress's own seam for outgoing
 * HTTP (the pre_http_request filter). It answers only requests to the configured sidecar
 * address, records each one (method, path with query, headers, body) so tests can check
 * the signature, and answers from routes the test sets.
 */

namespace ScheduledSnapshots\Tests;

final class Fake_Sidecar {

	/** @var array<int,array{method:string,url:string,path:string,headers:array,body:string}> */
	public $requests = array();

	/** @var array<int,array{0:string,1:string,2:callable|array}> method, path regex, answer */
	private $routes = array();

	/** @var string */
	private $base;

	public function __construct( string $base ) {
		$this->base = rtrim( $base, '/' );
		add_filter( 'pre_http_request', array( $this, 'intercept' ), 10, 3 );
	}

	public function remove(): void {
		remove_filter( 'pre_http_request', array( $this, 'intercept' ), 10 );
	}

	/**
	 * Answer METHOD on paths matching $pattern (a regex on the path without query, e.g.
	 * '#^/api/v1/schedules$#') with [status, json-able body], a raw string body
	 * ['raw' => '…', 'status' => 200, 'type' => 'text/html'], or a callable(request) returning one of those.
	 *
	 * @param array|callable $answer
	 */
	public function on( string $method, string $pattern, $answer ): self {
		array_unshift( $this->routes, array( strtoupper( $method ), $pattern, $answer ) );
		return $this;
	}

	/**
	 * @param false|array|\WP_Error $pre
	 * @return false|array|\WP_Error
	 */
	public function intercept( $pre, $args, $url ) {
		if ( 0 !== strpos( $url, $this->base . '/' ) ) {
			return $pre;
		}
		$target  = substr( $url, strlen( $this->base ) );
		$path    = (string) strtok( $target, '?' );
		$request = array(
			'method'  => strtoupper( $args['method'] ?? 'GET' ),
			'url'     => $url,
			'path'    => $target,
			'headers' => $args['headers'] ?? array(),
			'body'    => null === ( $args['body'] ?? null ) ? '' : (string) $args['body'],
			'timeout' => $args['timeout'] ?? null,
		);
		$this->requests[] = $request;

		foreach ( $this->routes as list( $method, $pattern, $answer ) ) {
			if ( $method === $request['method'] && preg_match( $pattern, $path ) ) {
				if ( is_callable( $answer ) ) {
					$answer = $answer( $request );
				}
				return self::response( $answer );
			}
		}
		return self::response( array( 404, array( 'error' => array( 'code' => 'not_found', 'message' => 'No fake route for ' . $request['method'] . ' ' . $path ) ) ) );
	}

	private static function response( $answer ) {
		if ( $answer instanceof \WP_Error ) {
			return $answer;
		}
		$type = 'application/json';
		if ( isset( $answer['raw'] ) ) {
			$status = $answer['status'] ?? 200;
			$body   = $answer['raw'];
			$type   = $answer['type'] ?? $type;
		} else {
			$status = $answer[0];
			$body   = null === $answer[1] ? '' : wp_json_encode( $answer[1] );
		}
		return array(
			'headers'  => array( 'content-type' => $type ),
			'body'     => $body,
			'response' => array(
				'code'    => $status,
				'message' => get_status_header_desc( $status ),
			),
			'cookies'  => array(),
			'filename' => null,
		);
	}

	/** Requests to one path (without query), optionally one method. */
	public function requests_to( string $path, ?string $method = null ): array {
		return array_values(
			array_filter(
				$this->requests,
				static function ( $r ) use ( $path, $method ) {
					return strtok( $r['path'], '?' ) === $path && ( null === $method || $r['method'] === $method );
				}
			)
		);
	}

	/**
	 * Recompute the signature the sidecar would (docs/api.md) and compare.
	 */
	public static function signature_is_valid( array $request, string $secret ): bool {
		$h = $request['headers'];
		foreach ( array( 'X-SS-Timestamp', 'X-SS-Nonce', 'X-SS-Actor', 'X-SS-Signature' ) as $name ) {
			if ( ! isset( $h[ $name ] ) ) {
				return false;
			}
		}
		$canonical = implode( "\n", array( $request['method'], $request['path'], $h['X-SS-Timestamp'], $h['X-SS-Nonce'], $h['X-SS-Actor'], hash( 'sha256', $request['body'] ) ) );
		return hash_equals( hash_hmac( 'sha256', $canonical, $secret ), $h['X-SS-Signature'] );
	}
}
