<?php
/**
 * Where the plugin's settings come from: wp-config constants first, then options, then
 * defaults. The shared secret only ever comes from the constant SS_SHARED_SECRET: it is
 * never stored in the database and never printed.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Config {

	const DEFAULT_SIDECAR_URL = 'http://127.0.0.1:8787';
	const OPTION_SIDECAR_URL  = 'ss_sidecar_url';
	/** Same floor as the sidecar, which refuses to start with a shorter secret. */
	const MIN_SECRET_LENGTH = 32;

	/** The sidecar's base URL, without a trailing slash: wp-config, else the (network) option, else the default. */
	public static function sidecar_url(): string {
		if ( self::sidecar_url_is_locked() ) {
			return untrailingslashit( trim( (string) SS_SIDECAR_URL ) );
		}
		$url = self::is_network() ? get_site_option( self::OPTION_SIDECAR_URL, '' ) : get_option( self::OPTION_SIDECAR_URL, '' );
		$url = is_string( $url ) ? trim( $url ) : '';
		return untrailingslashit( '' === $url ? self::DEFAULT_SIDECAR_URL : $url );
	}

	/** True when wp-config.php sets the URL (the setting field is then read-only). */
	public static function sidecar_url_is_locked(): bool {
		return defined( 'SS_SIDECAR_URL' ) && is_string( SS_SIDECAR_URL ) && '' !== trim( SS_SIDECAR_URL );
	}

	/** On a network one sidecar serves the network: settings and capability are network-level (filter ss_is_network). */
	public static function is_network(): bool {
		return (bool) apply_filters( 'ss_is_network', is_multisite() );
	}

	/** Saves (or, with '', forgets) the sidecar address where sidecar_url() reads it. */
	public static function save_sidecar_url( string $url ): void {
		$net = self::is_network();
		'' === $url ? ( $net ? delete_site_option( self::OPTION_SIDECAR_URL ) : delete_option( self::OPTION_SIDECAR_URL ) ) : ( $net ? update_site_option( self::OPTION_SIDECAR_URL, $url ) : update_option( self::OPTION_SIDECAR_URL, $url, false ) );
	}

	/** The sidecar reads one site's tables ({SS_TABLE_PREFIX}posts…): on any other site the plugin must not run. */
	public static function prefix_problem( string $site_prefix, ?string $sidecar_prefix ): ?string {
		if ( null === $sidecar_prefix || '' === $sidecar_prefix || $sidecar_prefix === $site_prefix ) {
			return null;
		}
		/* translators: 1: this site's table prefix, 2: the sidecar's SS_TABLE_PREFIX */
		return sprintf( __( 'Scheduled Snapshots is not running on this site: its tables start with "%1$s", but the snapshot service reads the site whose tables start with "%2$s" (SS_TABLE_PREFIX). Activate the plugin only on that site, or run a sidecar with SS_TABLE_PREFIX=%1$s for this one.', 'scheduled-snapshots' ), $site_prefix, $sidecar_prefix );
	}

	/** The shared secret, or null when wp-config.php does not define it. */
	public static function shared_secret(): ?string {
		if ( ! defined( 'SS_SHARED_SECRET' ) || ! is_string( SS_SHARED_SECRET ) || '' === SS_SHARED_SECRET ) {
			return null;
		}
		return SS_SHARED_SECRET;
	}

	/** Capability for Schedules and Settings: administrators (network administrators on a network). */
	public static function required_capability(): string {
		$default = self::is_network() ? 'manage_network_options' : 'manage_options';
		$cap     = apply_filters( 'ss_required_capability', $default );
		return is_string( $cap ) && '' !== $cap ? $cap : $default;
	}

	/** Capability for the Snapshots list and server-scoped actions: with WPCD, its server managers too (then per server). */
	public static function snapshots_capability(): string {
		return function_exists( 'wpcd_user_can_edit_app_server' ) && ! current_user_can( self::required_capability() ) ? 'wpcd_manage_servers' : self::required_capability();
	}

	public static function can_manage_snapshots(): bool {
		return current_user_can( self::snapshots_capability() );
	}

	/** May the current user act on this server? The host's own rule (WPCD: team permissions or authorship), else edit_post. */
	public static function can_manage_server( int $server_id ): bool {
		$can = function_exists( 'wpcd_user_can_edit_app_server' ) ? wpcd_user_can_edit_app_server( $server_id ) : current_user_can( 'edit_post', $server_id );
		return $server_id > 0 && (bool) apply_filters( 'ss_user_can_manage_server', $can, $server_id );
	}

	/** The host panel's server post type (docs/architecture.md: a setting with this default). */
	public static function host_post_type(): string {
		$type = apply_filters( 'ss_host_post_type', 'wpcd_app_server' );
		return is_string( $type ) && '' !== $type ? $type : 'wpcd_app_server';
	}

	/** Is a sane http(s) base URL? */
	public static function is_valid_sidecar_url( string $url ): bool {
		$parts = wp_parse_url( $url );
		return is_array( $parts )
			&& isset( $parts['scheme'], $parts['host'] )
			&& in_array( strtolower( $parts['scheme'] ), array( 'http', 'https' ), true )
			&& ! isset( $parts['query'] ) && ! isset( $parts['fragment'] ) && ! isset( $parts['user'] );
	}
}
