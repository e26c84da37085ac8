<?php
/**
 * Provider slugs (as the host stores them) → display names from GET /api/v1/providers
 * ("linode" → "Linode"), asked once per page load. Falls back to the slug.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Provider_Names {

	/** @var array<string,string>|null */
	private static $names = null;

	public static function of( string $slug ): string {
		if ( null === self::$names ) {
			self::$names = array();
			$json        = Sidecar_Client::from_config()->get( '/api/v1/providers' );
			if ( ! is_wp_error( $json ) ) {
				foreach ( Api_Shapes::items( $json ) as $raw ) {
					$provider = Api_Shapes::provider( $raw );
					if ( null !== $provider && '' !== $provider['slug'] && '' !== $provider['displayName'] ) {
						self::$names[ $provider['slug'] ] = $provider['displayName'];
					}
				}
			}
		}
		return self::$names[ $slug ] ?? $slug;
	}

	/** Forget what was asked (a new request, or a test). */
	public static function forget(): void {
		self::$names = null;
	}
}
