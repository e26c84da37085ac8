<?php
/**
 * The request signature shared with the sidecar (docs/api.md, "Signed requests", a contract).
 *
 * X-SS-Signature = hex HMAC-SHA256( secret,
 *     METHOD \n PATH_WITH_QUERY \n TIMESTAMP \n NONCE \n ACTOR \n hex SHA-256( BODY ) )
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Request_Signature {

	/** The sidecar refuses nonces shorter than this. */
	const MIN_NONCE_LENGTH = 16;

	/** The exact string that is signed. */
	public static function canonical( string $method, string $path_with_query, string $timestamp, string $nonce, string $actor, string $body ): string {
		return implode( "\n", array( strtoupper( $method ), $path_with_query, $timestamp, $nonce, $actor, hash( 'sha256', $body ) ) );
	}

	/** Hex HMAC-SHA256 of the canonical string. */
	public static function sign( string $secret, string $method, string $path_with_query, string $timestamp, string $nonce, string $actor, string $body ): string {
		return hash_hmac( 'sha256', self::canonical( $method, $path_with_query, $timestamp, $nonce, $actor, $body ), $secret );
	}

	/** A fresh nonce: 32 hex characters from the CSPRNG (the sidecar wants 16 or more). */
	public static function new_nonce(): string {
		return bin2hex( random_bytes( 16 ) );
	}

	/** All four headers for one request. @return array<string,string> */
	public static function headers( string $secret, string $method, string $path_with_query, string $actor, string $body, ?int $now = null, ?string $nonce = null ): array {
		$timestamp = (string) ( null === $now ? time() : $now );
		$nonce     = null === $nonce ? self::new_nonce() : $nonce;
		return array(
			'X-SS-Timestamp' => $timestamp,
			'X-SS-Nonce'     => $nonce,
			'X-SS-Actor'     => $actor,
			'X-SS-Signature' => self::sign( $secret, $method, $path_with_query, $timestamp, $nonce, $actor, $body ),
		);
	}
}
