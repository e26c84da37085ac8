<?php
/**
 * The add/edit schedule form: what its fields are, how a submitted form becomes the API's
 * schedule body, and how the API's field messages find their way back beside the fields.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Schedule_Form {

	/** Form field name prefix: ss_schedule[name], ss_schedule[retention][keepDaily], … */
	const INPUT = 'ss_schedule';

	/**
	 * Retention inputs: API key → [label, help].
	 *
	 * @return array<string,array{0:string,1:string}>
	 */
	public static function retention_fields(): array {
		return array(
			'keepLast'    => array( __( 'Keep the last', 'scheduled-snapshots' ), __( 'snapshots', 'scheduled-snapshots' ) ),
			'keepHourly'  => array( __( 'Keep one per hour for', 'scheduled-snapshots' ), __( 'hours', 'scheduled-snapshots' ) ),
			'keepDaily'   => array( __( 'Keep one per day for', 'scheduled-snapshots' ), __( 'days', 'scheduled-snapshots' ) ),
			'keepWeekly'  => array( __( 'Keep one per week for', 'scheduled-snapshots' ), __( 'weeks', 'scheduled-snapshots' ) ),
			'keepMonthly' => array( __( 'Keep one per month for', 'scheduled-snapshots' ), __( 'months', 'scheduled-snapshots' ) ),
			'keepYearly'  => array( __( 'Keep one per year for', 'scheduled-snapshots' ), __( 'years', 'scheduled-snapshots' ) ),
			'maxAgeDays'  => array( __( 'Delete snapshots older than', 'scheduled-snapshots' ), __( 'days', 'scheduled-snapshots' ) ),
			'minKeep'     => array( __( 'But always keep at least', 'scheduled-snapshots' ), __( 'good snapshots (default 1)', 'scheduled-snapshots' ) ),
		);
	}

	/**
	 * Form values for a new schedule.
	 */
	public static function defaults(): array {
		$tz = get_option( 'timezone_string' );
		return array(
			'name'            => '',
			'frequency'       => 'interval',
			'intervalMinutes' => '1440',
			'cron'            => '',
			'timezone'        => is_string( $tz ) && '' !== $tz ? $tz : 'UTC',
			'retention'       => array(
				'keepLast'    => '',
				'keepHourly'  => '',
				'keepDaily'   => '7',
				'keepWeekly'  => '4',
				'keepMonthly' => '',
				'keepYearly'  => '',
				'maxAgeDays'  => '',
				'minKeep'     => '1',
			),
			'enabled'         => true,
			'noReboot'        => true,
		);
	}

	/**
	 * Form values from a schedule the API returned (already normalised).
	 */
	public static function values_from_schedule( array $schedule ): array {
		$values              = self::defaults();
		$values['name']      = $schedule['name'];
		$values['frequency'] = null !== $schedule['cron'] && '' !== $schedule['cron'] ? 'cron' : 'interval';
		$values['intervalMinutes'] = null === $schedule['intervalMinutes'] ? '' : (string) $schedule['intervalMinutes'];
		$values['cron']      = (string) $schedule['cron'];
		$values['timezone']  = $schedule['timezone'];
		foreach ( array_keys( self::retention_fields() ) as $key ) {
			$values['retention'][ $key ] = null === $schedule['retention'][ $key ] ? '' : (string) $schedule['retention'][ $key ];
		}
		$values['enabled']  = $schedule['enabled'];
		$values['noReboot'] = $schedule['noReboot'];
		return $values;
	}

	/**
	 * Form values from a submitted form (unslashed, sanitised, still strings).
	 */
	public static function values_from_request( array $post ): array {
		$raw    = isset( $post[ self::INPUT ] ) && is_array( $post[ self::INPUT ] ) ? wp_unslash( $post[ self::INPUT ] ) : array();
		$values = self::defaults();
		$text   = static function ( $value ): string {
			return is_string( $value ) ? trim( sanitize_text_field( $value ) ) : '';
		};
		$values['name']            = Admin_Action::plain_text( $raw['name'] ?? '', false, 190 );
		$values['frequency']       = isset( $raw['frequency'] ) && 'cron' === $raw['frequency'] ? 'cron' : 'interval';
		$values['intervalMinutes'] = $text( $raw['intervalMinutes'] ?? '' );
		$values['cron']            = $text( $raw['cron'] ?? '' );
		$values['timezone']        = $text( $raw['timezone'] ?? '' );
		$retention                 = isset( $raw['retention'] ) && is_array( $raw['retention'] ) ? $raw['retention'] : array();
		foreach ( array_keys( self::retention_fields() ) as $key ) {
			$values['retention'][ $key ] = $text( $retention[ $key ] ?? '' );
		}
		$values['enabled']  = ! empty( $raw['enabled'] );
		$values['noReboot'] = ! empty( $raw['noReboot'] );
		return $values;
	}

	/**
	 * Checks only what the API cannot receive (a number box holding text); every rule of
	 * the domain is the sidecar's. Field key → sentence.
	 *
	 * @return array<string,string>
	 */
	public static function local_errors( array $values ): array {
		$errors = array();
		if ( 'interval' === $values['frequency'] && ! preg_match( '/^\d{1,7}$/', $values['intervalMinutes'] ) ) {
			$errors['intervalMinutes'] = __( 'Enter a whole number of minutes, for example 60.', 'scheduled-snapshots' );
		}
		foreach ( $values['retention'] as $key => $value ) {
			if ( '' !== $value && ! preg_match( '/^\d{1,6}$/', $value ) ) {
				$errors[ 'retention.' . $key ] = __( 'Enter a whole number, or leave the box empty.', 'scheduled-snapshots' );
			}
		}
		return $errors;
	}

	/**
	 * The API's schedule body.
	 */
	public static function body( array $values ): array {
		$retention = array();
		foreach ( $values['retention'] as $key => $value ) {
			if ( '' !== $value && preg_match( '/^\d+$/', $value ) ) {
				$retention[ $key ] = (int) $value;
			}
		}
		$cron = 'cron' === $values['frequency'];
		return array(
			'name'            => $values['name'],
			'intervalMinutes' => $cron || ! preg_match( '/^\d+$/', $values['intervalMinutes'] ) ? null : (int) $values['intervalMinutes'],
			'cron'            => $cron ? $values['cron'] : null,
			'timezone'        => $values['timezone'],
			'retention'       => (object) $retention,
			'enabled'         => (bool) $values['enabled'],
			'noReboot'        => (bool) $values['noReboot'],
		);
	}

	/**
	 * The body for a preview (next runs, retention in words): a save's body, except that a
	 * name not typed yet does not hide the preview — the name does not change when snapshots
	 * run or which are kept, and saving still refuses an empty one beside the field.
	 */
	public static function preview_body( array $values ): array {
		$body = self::body( $values );
		if ( '' === $body['name'] ) {
			$body['name'] = __( 'New schedule', 'scheduled-snapshots' );
		}
		return $body;
	}

	/**
	 * Map the API's field names ("retention.keepDaily", "keepDaily", "retention/keepDaily")
	 * to this form's keys, and its short phrases ("must be at least 1") to sentences that
	 * name the field as the form does. Messages for fields the form does not have go under ''.
	 *
	 * @param array<string,string> $fields
	 * @return array<string,string>
	 */
	public static function field_errors( array $fields ): array {
		$labels = self::field_labels();
		$errors = array();
		foreach ( $fields as $field => $phrase ) {
			$key = ltrim( str_replace( array( '/', '[', ']' ), array( '.', '.', '' ), (string) $field ), '.' );
			if ( array_key_exists( $key, self::retention_fields() ) ) {
				$key = 'retention.' . $key;
			}
			if ( 'frequency' === $key || 'schedule' === $key ) {
				$key = 'intervalMinutes';
			}
			$known    = isset( $labels[ $key ] );
			$sentence = self::sentence( $known ? $key : '', (string) $phrase );
			$slot     = $known ? $key : '';
			$errors[ $slot ] = isset( $errors[ $slot ] ) ? $errors[ $slot ] . ' ' . $sentence : $sentence;
		}
		return $errors;
	}

	/**
	 * Form key → how the form names that field.
	 *
	 * @return array<string,string>
	 */
	private static function field_labels(): array {
		$labels = array(
			'name'            => __( 'The name', 'scheduled-snapshots' ),
			'intervalMinutes' => __( 'The number of minutes', 'scheduled-snapshots' ),
			'cron'            => __( 'The cron expression', 'scheduled-snapshots' ),
			'timezone'        => __( 'The timezone', 'scheduled-snapshots' ),
			'retention'       => __( 'Retention', 'scheduled-snapshots' ),
			'enabled'         => __( 'Enabled', 'scheduled-snapshots' ),
			'noReboot'        => __( 'Do not reboot', 'scheduled-snapshots' ),
		);
		foreach ( self::retention_fields() as $key => $words ) {
			/* translators: 1: start of the rule's label, 2: its unit, e.g. "Keep one per day for … days" */
			$labels[ 'retention.' . $key ] = sprintf( __( '“%1$s … %2$s”', 'scheduled-snapshots' ), $words[0], $words[1] );
		}
		return $labels;
	}

	private static function sentence( string $key, string $phrase ): string {
		$phrase = trim( $phrase );
		// The API names its fields; say them as the form does.
		$phrase = strtr(
			$phrase,
			array(
				'intervalMinutes (every N minutes)' => __( 'a number of minutes', 'scheduled-snapshots' ),
				'intervalMinutes'                   => __( 'a number of minutes', 'scheduled-snapshots' ),
				'keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly or maxAgeDays' => __( 'the retention boxes above “But always keep at least”', 'scheduled-snapshots' ),
			)
		);
		if ( '' !== $key && preg_match( '/^(is|must|should|cannot)\b/i', $phrase ) ) {
			$labels = self::field_labels();
			$phrase = $labels[ $key ] . ' ' . $phrase;
		}
		$phrase = ucfirst( $phrase );
		return preg_match( '/[.!?]$/', $phrase ) ? $phrase : $phrase . '.';
	}

	/**
	 * Print the form.
	 *
	 * @param string|null          $schedule_id Null for a new schedule.
	 * @param array                $values      Form values.
	 * @param array<string,string> $errors      Field key → sentence.
	 * @param array|null           $preview     { nextRuns: string[], retentionSummary: string } or null.
	 */
	public static function render( ?string $schedule_id, array $values, array $errors, ?array $preview ): void {
		$object = null === $schedule_id ? 'new' : $schedule_id;
		$input  = self::INPUT;
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" id="ss-schedule-form" class="ss-schedule-form" novalidate>';
		echo '<input type="hidden" name="action" value="ss_save_schedule" />';
		echo '<input type="hidden" name="schedule" value="' . esc_attr( $object ) . '" />';
		wp_nonce_field( Admin_Action::nonce_action( 'ss_save_schedule', $object ) );

		if ( isset( $errors[''] ) ) {
			echo '<div class="notice notice-error inline" id="ss-form-errors"><p>' . esc_html( $errors[''] ) . '</p></div>';
		}

		echo '<table class="form-table" role="presentation"><tbody>';

		// Name.
		echo '<tr class="' . esc_attr( self::row_class( $errors, 'name' ) ) . '"><th scope="row"><label for="ss-schedule-name">' . esc_html__( 'Name', 'scheduled-snapshots' ) . '</label></th><td>';
		printf(
			'<input type="text" class="regular-text" id="ss-schedule-name" name="%1$s[name]" value="%2$s" maxlength="190" required%3$s />',
			esc_attr( $input ),
			esc_attr( $values['name'] ),
			self::aria( $errors, 'name' ) // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- fixed attribute text
		);
		self::field_message( $errors, 'name' );
		echo '</td></tr>';

		// Frequency.
		echo '<tr class="' . esc_attr( self::row_class( $errors, 'intervalMinutes', 'cron' ) ) . '"><th scope="row">' . esc_html__( 'Frequency', 'scheduled-snapshots' ) . '</th><td><fieldset><legend class="screen-reader-text">' . esc_html__( 'Frequency', 'scheduled-snapshots' ) . '</legend>';
		printf(
			'<p><label><input type="radio" name="%1$s[frequency]" value="interval" id="ss-frequency-interval"%2$s /> %3$s</label> <input type="number" min="1" step="1" class="small-text" id="ss-schedule-interval" name="%1$s[intervalMinutes]" value="%4$s" aria-label="%5$s"%6$s /> %7$s</p>',
			esc_attr( $input ),
			checked( 'interval', $values['frequency'], false ),
			esc_html__( 'Every', 'scheduled-snapshots' ),
			esc_attr( $values['intervalMinutes'] ),
			esc_attr__( 'Minutes between snapshots', 'scheduled-snapshots' ),
			self::aria( $errors, 'intervalMinutes' ), // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
			esc_html__( 'minutes', 'scheduled-snapshots' )
		);
		self::field_message( $errors, 'intervalMinutes' );
		printf(
			'<p><label><input type="radio" name="%1$s[frequency]" value="cron" id="ss-frequency-cron"%2$s /> %3$s</label> <input type="text" class="regular-text code" id="ss-schedule-cron" name="%1$s[cron]" value="%4$s" placeholder="0 3 * * *" aria-label="%5$s"%6$s /></p>',
			esc_attr( $input ),
			checked( 'cron', $values['frequency'], false ),
			esc_html__( 'Cron expression', 'scheduled-snapshots' ),
			esc_attr( $values['cron'] ),
			esc_attr__( 'Cron expression', 'scheduled-snapshots' ),
			self::aria( $errors, 'cron' ) // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
		);
		self::field_message( $errors, 'cron' );
		echo '<p class="description">' . esc_html__( 'Cron fields: minute, hour, day of month, month, day of week — read in the schedule\'s timezone. Example: 0 3 * * * is every day at 03:00.', 'scheduled-snapshots' ) . '</p>';
		echo '</fieldset></td></tr>';

		// Timezone.
		echo '<tr class="' . esc_attr( self::row_class( $errors, 'timezone' ) ) . '"><th scope="row"><label for="ss-schedule-timezone">' . esc_html__( 'Timezone', 'scheduled-snapshots' ) . '</label></th><td>';
		printf( '<select id="ss-schedule-timezone" name="%1$s[timezone]"%2$s>', esc_attr( $input ), self::aria( $errors, 'timezone' ) ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
		self::timezone_options( $values['timezone'] );
		echo '</select>';
		self::field_message( $errors, 'timezone' );
		echo '<p class="description">' . esc_html__( 'Daily, weekly and cron schedules follow this timezone, including daylight saving changes.', 'scheduled-snapshots' ) . '</p>';
		echo '</td></tr>';

		// Retention.
		echo '<tr class="' . esc_attr( self::row_class( $errors, 'retention' ) ) . '"><th scope="row">' . esc_html__( 'Retention', 'scheduled-snapshots' ) . '</th><td><fieldset id="ss-retention"><legend class="screen-reader-text">' . esc_html__( 'Retention', 'scheduled-snapshots' ) . '</legend>';
		self::field_message( $errors, 'retention' );
		foreach ( self::retention_fields() as $key => $labels ) {
			$field = 'retention.' . $key;
			printf(
				'<p class="ss-retention-rule%7$s"><label for="ss-retention-%1$s">%2$s</label> <input type="number" min="0" step="1" class="small-text" id="ss-retention-%1$s" name="%3$s[retention][%1$s]" value="%4$s"%6$s /> %5$s</p>',
				esc_attr( $key ),
				esc_html( $labels[0] ),
				esc_attr( $input ),
				esc_attr( $values['retention'][ $key ] ),
				esc_html( $labels[1] ),
				self::aria( $errors, $field ), // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
				isset( $errors[ $field ] ) ? ' form-invalid' : ''
			);
			self::field_message( $errors, $field );
		}
		echo '<p class="description">' . esc_html__( 'Leave a box empty to not use that rule. A snapshot is kept when any rule keeps it. Manual and backup-tab snapshots, protected snapshots, and anything pending or failed are never deleted automatically.', 'scheduled-snapshots' ) . '</p>';
		$summary = null !== $preview && '' !== $preview['retentionSummary'] ? $preview['retentionSummary'] : '';
		echo '<p class="ss-preview-line"><strong>' . esc_html__( 'In words:', 'scheduled-snapshots' ) . '</strong> <span id="ss-retention-preview">' . esc_html( $summary ) . '</span></p>';
		echo '</fieldset></td></tr>';

		// Options.
		echo '<tr><th scope="row">' . esc_html__( 'Options', 'scheduled-snapshots' ) . '</th><td><fieldset>';
		printf(
			'<p><label><input type="checkbox" id="ss-schedule-enabled" name="%1$s[enabled]" value="1"%2$s /> %3$s</label></p>',
			esc_attr( $input ),
			checked( (bool) $values['enabled'], true, false ),
			esc_html__( 'Enabled: take snapshots on this schedule', 'scheduled-snapshots' )
		);
		printf(
			'<p><label><input type="checkbox" id="ss-schedule-noreboot" name="%1$s[noReboot]" value="1"%2$s /> %3$s</label></p>',
			esc_attr( $input ),
			checked( (bool) $values['noReboot'], true, false ),
			esc_html__( 'Do not reboot the server to take the snapshot (AWS EC2; other providers never reboot)', 'scheduled-snapshots' )
		);
		echo '</fieldset></td></tr>';

		// Next runs.
		echo '<tr><th scope="row">' . esc_html__( 'Next runs', 'scheduled-snapshots' ) . '</th><td>';
		echo '<ol id="ss-next-runs" class="ss-next-runs">';
		if ( null !== $preview ) {
			foreach ( $preview['nextRuns'] as $iso ) {
				echo '<li>' . esc_html( Display::time( $iso ) ) . ' <span class="description">(' . esc_html( Display::relative( $iso ) ) . ')</span></li>';
			}
		}
		echo '</ol>';
		echo '<p class="description" id="ss-next-runs-note">' . esc_html(
			sprintf(
				/* translators: %s: timezone name */
				__( 'Shown in the site\'s timezone (%s). The list updates as you edit the form.', 'scheduled-snapshots' ),
				Display::site_timezone_name()
			)
		) . '</p>';
		echo '</td></tr>';

		echo '</tbody></table>';

		submit_button( null === $schedule_id ? __( 'Add Schedule', 'scheduled-snapshots' ) : __( 'Update Schedule', 'scheduled-snapshots' ), 'primary', 'submit', false, array( 'id' => 'ss-schedule-submit' ) );
		echo ' <a class="button" href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SCHEDULES ) ) . '">' . esc_html__( 'Cancel', 'scheduled-snapshots' ) . '</a>';
		if ( null !== $schedule_id ) {
			echo ' <a class="button-link-delete ss-delete-schedule-link" href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SCHEDULES, array( 'view' => 'delete', 'schedule' => rawurlencode( $schedule_id ) ) ) ) . '">' . esc_html__( 'Delete schedule', 'scheduled-snapshots' ) . '</a>';
		}
		echo '</form>';
	}

	private static function row_class( array $errors, string ...$keys ): string {
		foreach ( $keys as $key ) {
			if ( isset( $errors[ $key ] ) ) {
				return 'form-invalid';
			}
		}
		return '';
	}

	private static function aria( array $errors, string $key ): string {
		return isset( $errors[ $key ] ) ? ' aria-invalid="true" aria-describedby="' . esc_attr( self::message_id( $key ) ) . '"' : '';
	}

	private static function message_id( string $key ): string {
		return 'ss-error-' . str_replace( '.', '-', $key );
	}

	private static function field_message( array $errors, string $key ): void {
		if ( isset( $errors[ $key ] ) ) {
			printf( '<p class="ss-field-error" id="%1$s">%2$s</p>', esc_attr( self::message_id( $key ) ), esc_html( $errors[ $key ] ) );
		}
	}

	/**
	 * IANA zone names grouped by region (no "UTC+2" offsets: a schedule needs real rules).
	 */
	private static function timezone_options( string $selected ): void {
		$zones = timezone_identifiers_list();
		if ( '' !== $selected && ! in_array( $selected, $zones, true ) && 'UTC' !== $selected ) {
			// Keep an unknown value visible so the API's message about it makes sense.
			printf( '<option value="%1$s" selected>%2$s</option>', esc_attr( $selected ), esc_html( $selected ) );
		}
		printf( '<option value="UTC"%1$s>UTC</option>', selected( 'UTC', $selected, false ) );
		$group = '';
		foreach ( $zones as $zone ) {
			if ( 'UTC' === $zone ) {
				continue;
			}
			$region = strstr( $zone, '/', true );
			$region = false === $region ? $zone : $region;
			if ( $region !== $group ) {
				if ( '' !== $group ) {
					echo '</optgroup>';
				}
				echo '<optgroup label="' . esc_attr( $region ) . '">';
				$group = $region;
			}
			printf( '<option value="%1$s"%2$s>%3$s</option>', esc_attr( $zone ), selected( $zone, $selected, false ), esc_html( str_replace( '_', ' ', $zone ) ) );
		}
		if ( '' !== $group ) {
			echo '</optgroup>';
		}
	}
}
