<?php
/**
 * Words and times for the screens. These return plain text; callers escape when printing.
 * API times are UTC ISO 8601; screens show them in the site's timezone and date format.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Display {

	/**
	 * "27 November 2026 3:00 pm" in the site's timezone, or '' for no time.
	 */
	public static function time( ?string $iso ): string {
		$ts = self::timestamp( $iso );
		if ( null === $ts ) {
			return '';
		}
		return wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), $ts );
	}

	/**
	 * The site-timezone date only ("27 November 2026").
	 */
	public static function date( ?string $iso ): string {
		$ts = self::timestamp( $iso );
		return null === $ts ? '' : wp_date( get_option( 'date_format' ), $ts );
	}

	/**
	 * "in 12 mins" / "3 hours ago".
	 */
	public static function relative( ?string $iso, ?int $now = null ): string {
		$ts = self::timestamp( $iso );
		if ( null === $ts ) {
			return '';
		}
		$now = null === $now ? time() : $now;
		/* translators: %s: human time difference, e.g. "5 mins" */
		return $ts >= $now ? sprintf( __( 'in %s', 'scheduled-snapshots' ), human_time_diff( $now, $ts ) )
			/* translators: %s: human time difference, e.g. "5 mins" */
			: sprintf( __( '%s ago', 'scheduled-snapshots' ), human_time_diff( $ts, $now ) );
	}

	/**
	 * "Europe/Berlin", or "UTC+2" / "UTC" for an offset-only site timezone.
	 */
	public static function site_timezone_name(): string {
		$name = wp_timezone_string();
		if ( preg_match( '/^[+-]\d{2}:\d{2}$/', $name ) ) {
			if ( '+00:00' === $name || '-00:00' === $name ) {
				return 'UTC';
			}
			return 'UTC' . preg_replace( '/:00$/', '', preg_replace( '/^([+-])0/', '$1', $name ) );
		}
		return $name;
	}

	public static function timestamp( ?string $iso ): ?int {
		if ( null === $iso || '' === $iso ) {
			return null;
		}
		$ts = strtotime( $iso );
		return false === $ts ? null : $ts;
	}

	public static function size( ?int $bytes ): string {
		if ( null === $bytes || $bytes < 0 ) {
			return '';
		}
		return (string) size_format( $bytes, $bytes >= GB_IN_BYTES ? 1 : 0 );
	}

	/**
	 * Who did it: a WordPress user's display name, the scheduler, or the system.
	 */
	public static function actor( string $actor ): string {
		if ( preg_match( '/^\d+$/', $actor ) ) {
			$user = get_userdata( (int) $actor );
			/* translators: %s: user id */
			return $user ? $user->display_name : sprintf( __( 'User #%s (deleted)', 'scheduled-snapshots' ), $actor );
		}
		switch ( $actor ) {
			case 'scheduler':
				return __( 'Scheduler', 'scheduled-snapshots' );
			case 'system':
				return __( 'System', 'scheduled-snapshots' );
			case '':
				return __( 'Unknown', 'scheduled-snapshots' );
			default:
				return $actor;
		}
	}

	/**
	 * An audit event's action in words ("retention_delete" → "Deleted by retention").
	 */
	public static function event_action( string $action ): string {
		$words = array(
			'requested'           => __( 'Requested', 'scheduled-snapshots' ),
			'creating'            => __( 'Accepted by the provider', 'scheduled-snapshots' ),
			'adopted'             => __( 'Found again after an interruption', 'scheduled-snapshots' ),
			'available'           => __( 'Available', 'scheduled-snapshots' ),
			'failed'              => __( 'Failed', 'scheduled-snapshots' ),
			'retry'               => __( 'Will retry', 'scheduled-snapshots' ),
			'updated'             => __( 'Protection or note changed', 'scheduled-snapshots' ),
			'trash_requested'     => __( 'Trash requested', 'scheduled-snapshots' ),
			'trashed'             => __( 'Trashed (record only)', 'scheduled-snapshots' ),
			'deleted'             => __( 'Deleted at the provider', 'scheduled-snapshots' ),
			'delete_failed'       => __( 'Delete failed at the provider', 'scheduled-snapshots' ),
			'retention_delete'    => __( 'Deleted by retention', 'scheduled-snapshots' ),
			'record_deleted'      => __( 'Record deleted', 'scheduled-snapshots' ),
			'recorded_from_panel' => __( 'Recorded from the host\'s backup tab', 'scheduled-snapshots' ),
			'superseded'          => __( 'Replaced by the provider', 'scheduled-snapshots' ),
		);
		return $words[ $action ] ?? ucfirst( str_replace( '_', ' ', $action ) );
	}

	public static function status_labels(): array {
		return array(
			'requested'     => __( 'Requested', 'scheduled-snapshots' ),
			'creating'      => __( 'Creating', 'scheduled-snapshots' ),
			'available'     => __( 'Available', 'scheduled-snapshots' ),
			'failed'        => __( 'Failed', 'scheduled-snapshots' ),
			'deleting'      => __( 'Deleting', 'scheduled-snapshots' ),
			'deleted'       => __( 'Deleted', 'scheduled-snapshots' ),
			'delete_failed' => __( 'Delete failed', 'scheduled-snapshots' ),
			'superseded'    => __( 'Replaced by the provider', 'scheduled-snapshots' ),
		);
	}

	public static function status( string $status ): string {
		$labels = self::status_labels();
		return $labels[ $status ] ?? $status;
	}

	public static function origin_labels(): array {
		return array(
			'scheduled' => __( 'Scheduled', 'scheduled-snapshots' ),
			'manual'    => __( 'Manual', 'scheduled-snapshots' ),
			'panel'     => __( 'Backup tab', 'scheduled-snapshots' ),
			'found'     => __( 'Found at the provider, not in this list', 'scheduled-snapshots' ),
		);
	}

	public static function origin( string $origin ): string {
		$labels = self::origin_labels();
		return $labels[ $origin ] ?? $origin;
	}

	/**
	 * "Every hour", "Every 15 minutes", "Every 2 days", or "Cron: 0 3 * * *".
	 */
	public static function frequency( ?int $interval_minutes, ?string $cron ): string {
		if ( null !== $cron && '' !== $cron ) {
			/* translators: %s: cron expression */
			return sprintf( __( 'Cron: %s', 'scheduled-snapshots' ), $cron );
		}
		if ( null === $interval_minutes || $interval_minutes <= 0 ) {
			return '';
		}
		if ( 0 === $interval_minutes % 1440 ) {
			$days = intdiv( $interval_minutes, 1440 );
			/* translators: %d: number of days */
			return 1 === $days ? __( 'Every day', 'scheduled-snapshots' ) : sprintf( _n( 'Every %d day', 'Every %d days', $days, 'scheduled-snapshots' ), $days );
		}
		if ( 0 === $interval_minutes % 60 ) {
			$hours = intdiv( $interval_minutes, 60 );
			/* translators: %d: number of hours */
			return 1 === $hours ? __( 'Every hour', 'scheduled-snapshots' ) : sprintf( _n( 'Every %d hour', 'Every %d hours', $hours, 'scheduled-snapshots' ), $hours );
		}
		/* translators: %d: number of minutes */
		return sprintf( _n( 'Every %d minute', 'Every %d minutes', $interval_minutes, 'scheduled-snapshots' ), $interval_minutes );
	}

	/**
	 * Retention in words when the sidecar did not send its own summary.
	 *
	 * @param array<string,int|null> $retention
	 */
	public static function retention( array $retention ): string {
		$parts = array();
		$words = array(
			/* translators: %d: count */
			'keepLast'    => _n_noop( 'the last %d', 'the last %d', 'scheduled-snapshots' ),
			/* translators: %d: count */
			'keepHourly'  => _n_noop( '%d hourly', '%d hourly', 'scheduled-snapshots' ),
			/* translators: %d: count */
			'keepDaily'   => _n_noop( '%d daily', '%d daily', 'scheduled-snapshots' ),
			/* translators: %d: count */
			'keepWeekly'  => _n_noop( '%d weekly', '%d weekly', 'scheduled-snapshots' ),
			/* translators: %d: count */
			'keepMonthly' => _n_noop( '%d monthly', '%d monthly', 'scheduled-snapshots' ),
			/* translators: %d: count */
			'keepYearly'  => _n_noop( '%d yearly', '%d yearly', 'scheduled-snapshots' ),
		);
		foreach ( $words as $key => $noop ) {
			if ( isset( $retention[ $key ] ) && $retention[ $key ] > 0 ) {
				$parts[] = sprintf( translate_nooped_plural( $noop, $retention[ $key ], 'scheduled-snapshots' ), $retention[ $key ] );
			}
		}
		$text = $parts
			/* translators: %s: list such as "the last 3, 7 daily" */
			? sprintf( __( 'Keeps %s', 'scheduled-snapshots' ), implode( ', ', $parts ) )
			: '';
		if ( isset( $retention['maxAgeDays'] ) && $retention['maxAgeDays'] > 0 ) {
			/* translators: %d: days */
			$age  = sprintf( _n( 'deletes snapshots older than %d day', 'deletes snapshots older than %d days', $retention['maxAgeDays'], 'scheduled-snapshots' ), $retention['maxAgeDays'] );
			$text = '' === $text ? ucfirst( $age ) : $text . '; ' . $age;
		}
		if ( '' === $text ) {
			return __( 'Keeps everything (no retention rule).', 'scheduled-snapshots' );
		}
		$min = isset( $retention['minKeep'] ) && null !== $retention['minKeep'] ? $retention['minKeep'] : 1;
		/* translators: %d: count */
		return $text . '; ' . sprintf( _n( 'never fewer than %d good snapshot.', 'never fewer than %d good snapshots.', $min, 'scheduled-snapshots' ), $min );
	}
}
