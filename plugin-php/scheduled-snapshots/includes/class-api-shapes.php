<?php
/**
 * The sidecar's answers are untrusted input. These functions turn them into arrays of known
 * keys and plain types (strings, ints, bools, null) before any screen uses them; a value of
 * the wrong type becomes empty rather than reaching the page. Escaping still happens at
 * output.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Api_Shapes {

	const RETENTION_KEYS = array( 'keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly', 'maxAgeDays', 'minKeep' );

	const STATUSES = array( 'requested', 'creating', 'available', 'failed', 'deleting', 'deleted', 'delete_failed', 'superseded' );

	const ORIGINS = array( 'scheduled', 'manual', 'panel' );

	/**
	 * The list inside an answer: a bare JSON list, or `{ items: [...] }`.
	 */
	public static function items( $json ): array {
		if ( is_array( $json ) && isset( $json['items'] ) && is_array( $json['items'] ) ) {
			$json = $json['items'];
		}
		if ( ! is_array( $json ) || ( $json && array_keys( $json ) !== range( 0, count( $json ) - 1 ) ) ) {
			return array();
		}
		return array_values( array_filter( $json, 'is_array' ) );
	}

	/** @return array|null */
	public static function schedule( $raw ) {
		if ( ! is_array( $raw ) ) {
			return null;
		}
		$id = self::id( $raw['id'] ?? null );
		if ( null === $id ) {
			return null;
		}
		$retention = array();
		$source    = isset( $raw['retention'] ) && is_array( $raw['retention'] ) ? $raw['retention'] : array();
		foreach ( self::RETENTION_KEYS as $key ) {
			$retention[ $key ] = self::int_or_null( $source[ $key ] ?? null );
		}
		return array(
			'id'               => $id,
			'name'             => self::str( $raw['name'] ?? '' ),
			'intervalMinutes'  => self::int_or_null( $raw['intervalMinutes'] ?? null ),
			'cron'             => self::str_or_null( $raw['cron'] ?? null ),
			'timezone'         => self::str( $raw['timezone'] ?? 'UTC' ),
			'retention'        => $retention,
			'enabled'          => self::bool( $raw['enabled'] ?? true ),
			'noReboot'         => self::bool( $raw['noReboot'] ?? true ),
			'retentionSummary' => self::str( $raw['retentionSummary'] ?? '' ),
			'frequency'        => self::str( $raw['frequency'] ?? '' ),
			'serverCount'      => (int) self::int_or_null( $raw['serverCount'] ?? 0 ),
			'nextRunAt'        => self::iso( $raw['nextRunAt'] ?? null ),
			'createdAt'        => self::iso( $raw['createdAt'] ?? null ),
			'updatedAt'        => self::iso( $raw['updatedAt'] ?? null ),
		);
	}

	/** @return array|null */
	public static function snapshot( $raw ) {
		if ( ! is_array( $raw ) ) {
			return null;
		}
		$id = self::id( $raw['id'] ?? null );
		if ( null === $id ) {
			return null;
		}
		$status = self::str( $raw['status'] ?? '' );
		$origin = self::str( $raw['origin'] ?? '' );
		return array(
			'id'                 => $id,
			'serverId'           => (int) self::int_or_null( $raw['serverId'] ?? 0 ),
			'serverName'         => self::str( $raw['serverName'] ?? '' ),
			'provider'           => self::str( $raw['provider'] ?? '' ),
			'providerSnapshotId' => self::str( $raw['providerSnapshotId'] ?? '' ),
			'name'               => self::str( $raw['name'] ?? '' ),
			'origin'             => $origin,
			'scheduleId'         => self::id( $raw['scheduleId'] ?? null ),
			'scheduleName'       => self::str( $raw['scheduleName'] ?? '' ),
			'status'             => $status,
			'keepForever'        => self::bool( $raw['keepForever'] ?? false ),
			'deleteNotBefore'    => self::iso( $raw['deleteNotBefore'] ?? null ),
			'createdAt'          => self::iso( $raw['createdAt'] ?? null ),
			'availableAt'        => self::iso( $raw['availableAt'] ?? null ),
			'lastError'          => self::str( $raw['lastError'] ?? '' ),
			'sizeBytes'          => self::int_or_null( $raw['sizeBytes'] ?? null ),
			'note'               => self::str( $raw['note'] ?? '' ),
			'protection'         => self::str( $raw['protection'] ?? '' ),
			'canDelete'          => self::bool( $raw['canDelete'] ?? true ),
			'serverProblem'      => self::str( $raw['serverProblem'] ?? '' ),
			'retention'          => self::retention( $raw['retention'] ?? null ),
		);
	}

	/**
	 * Retention's view of one snapshot: keep/delete and its reasons as sentences.
	 *
	 * @return array|null
	 */
	public static function retention( $raw ) {
		if ( ! is_array( $raw ) || ! isset( $raw['action'] ) || ! in_array( $raw['action'], array( 'keep', 'delete' ), true ) ) {
			return null;
		}
		$reasons = array();
		foreach ( ( is_array( $raw['reasons'] ?? null ) ? $raw['reasons'] : array() ) as $reason ) {
			if ( is_string( $reason ) && '' !== $reason ) {
				$reasons[] = $reason;
			}
		}
		return array( 'action' => $raw['action'], 'reasons' => array_slice( $reasons, 0, 10 ) );
	}

	/** @return array|null */
	public static function event( $raw ) {
		if ( ! is_array( $raw ) ) {
			return null;
		}
		$detail = $raw['detail'] ?? '';
		if ( is_array( $detail ) ) {
			$parts = array();
			foreach ( $detail as $key => $value ) {
				if ( is_scalar( $value ) || null === $value ) {
					$text    = is_bool( $value ) ? ( $value ? 'yes' : 'no' ) : ( null === $value ? '—' : (string) $value );
					$parts[] = is_string( $key ) ? $key . ': ' . $text : $text;
				}
			}
			$detail = implode( '; ', $parts );
		}
		return array(
			'id'     => self::str( $raw['id'] ?? '' ),
			'at'     => self::iso( $raw['at'] ?? null ),
			'actor'  => self::str( $raw['actor'] ?? '' ),
			'action' => self::str( $raw['action'] ?? '' ),
			'detail' => self::str( $detail ),
		);
	}

	/**
	 * GET /api/v1/servers/:id → { server, schedules, lastSnapshot }.
	 *
	 * @return array|null
	 */
	public static function server_detail( $raw ) {
		if ( ! is_array( $raw ) || ! isset( $raw['server'] ) || ! is_array( $raw['server'] ) ) {
			return null;
		}
		$server    = $raw['server'];
		$schedules = array();
		foreach ( self::items( $raw['schedules'] ?? array() ) as $item ) {
			$id = self::id( $item['scheduleId'] ?? ( $item['id'] ?? null ) );
			if ( null !== $id ) {
				$schedules[] = array(
					'scheduleId' => $id,
					'name'       => self::str( $item['name'] ?? '' ),
					'enabled'    => self::bool( $item['enabled'] ?? true ),
					'nextRunAt'  => self::iso( $item['nextRunAt'] ?? null ),
					'problem'    => self::str( $item['problem'] ?? '' ),
				);
			}
		}
		return array(
			'server'       => array(
				'id'           => (int) self::int_or_null( $server['id'] ?? 0 ),
				'name'         => self::str( $server['name'] ?? '' ),
				'provider'     => self::str( $server['provider'] ?? '' ),
				'providerType' => self::str( $server['providerType'] ?? '' ),
				'providerName' => self::str( $server['providerName'] ?? '' ),
				'instanceId'   => self::str( $server['instanceId'] ?? '' ),
				'region'       => self::str( $server['region'] ?? '' ),
				'problem'      => self::str( $server['problem'] ?? '' ),
				'capabilities' => self::capabilities( $server['capabilities'] ?? null ),
			),
			'schedules'    => $schedules,
			'lastSnapshot' => self::snapshot( $raw['lastSnapshot'] ?? null ),
		);
	}

	/** @return array|null */
	public static function provider( $raw ) {
		if ( ! is_array( $raw ) ) {
			return null;
		}
		return array(
			'slug'         => self::str( $raw['slug'] ?? '' ),
			'type'         => self::str( $raw['type'] ?? '' ),
			'displayName'  => self::str( $raw['displayName'] ?? '' ),
			'capabilities' => self::capabilities( $raw['capabilities'] ?? null ),
		);
	}

	/** @return array|null Null when the sidecar did not say. */
	public static function capabilities( $raw ) {
		if ( ! is_array( $raw ) ) {
			return null;
		}
		$notes = array();
		foreach ( isset( $raw['notes'] ) && is_array( $raw['notes'] ) ? $raw['notes'] : array() as $note ) {
			if ( is_string( $note ) && '' !== $note ) {
				$notes[] = $note;
			}
		}
		return array(
			'create'         => self::bool( $raw['create'] ?? true ),
			'delete'         => self::bool( $raw['delete'] ?? true ),
			'labels'         => self::bool( $raw['labels'] ?? false ),
			'slotsPerServer' => self::int_or_null( $raw['slotsPerServer'] ?? null ),
			'notes'          => $notes,
		);
	}

	/** @return array{id:int,name:string,provider:string}|null */
	public static function server_summary( $raw ) {
		if ( ! is_array( $raw ) ) {
			return null;
		}
		$id = (int) self::int_or_null( $raw['id'] ?? 0 );
		if ( $id <= 0 ) {
			return null;
		}
		return array(
			'id'       => $id,
			'name'     => self::str( $raw['name'] ?? '' ),
			'provider' => self::str( $raw['provider'] ?? '' ),
		);
	}

	/**
	 * An id we are willing to put in a URL or a form: letters, digits, . _ : - only.
	 */
	public static function id( $value ): ?string {
		if ( is_int( $value ) || ( is_string( $value ) && preg_match( '/^[A-Za-z0-9._:-]{1,64}$/', $value ) ) ) {
			return (string) $value;
		}
		return null;
	}

	/** A keyset cursor is opaque but must look harmless. */
	public static function cursor( $value ): ?string {
		return is_string( $value ) && preg_match( '/^[A-Za-z0-9._:=~-]{1,512}$/', $value ) ? $value : null;
	}

	public static function str( $value ): string {
		if ( is_string( $value ) ) {
			return $value;
		}
		if ( is_int( $value ) || is_float( $value ) ) {
			return (string) $value;
		}
		return '';
	}

	public static function str_or_null( $value ): ?string {
		$text = self::str( $value );
		return '' === $text ? null : $text;
	}

	public static function int_or_null( $value ): ?int {
		if ( is_int( $value ) ) {
			return $value;
		}
		if ( is_float( $value ) && is_finite( $value ) ) {
			return (int) $value;
		}
		if ( is_string( $value ) && preg_match( '/^-?\d{1,15}$/', $value ) ) {
			return (int) $value;
		}
		return null;
	}

	public static function bool( $value ): bool {
		return true === $value || 1 === $value || 'true' === $value || '1' === $value;
	}

	/**
	 * An ISO 8601 time we can parse, or null.
	 */
	public static function iso( $value ): ?string {
		if ( ! is_string( $value ) || ! preg_match( '/^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/', $value ) ) {
			return null;
		}
		return false === strtotime( $value ) ? null : $value;
	}
}
