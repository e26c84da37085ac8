<?php
/**
 * The "Snapshots" box on the host's server edit screen: which schedules snapshot this server
 * (saved with the host's own Update button), when they run next, the last snapshot, what the
 * provider cannot do, and "Take snapshot now".
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

use WP_Error;
use WP_Post;

defined( 'ABSPATH' ) || exit;

final class Server_Metabox {

	const BOX_ID        = 'ss-server-snapshots';
	const NONCE_FIELD   = 'ss_server_schedules_nonce';
	const PRESENT_FIELD = 'ss_server_schedules_present';
	const IDS_FIELD     = 'ss_schedule_ids';

	/** @var array<int,true|WP_Error> post id → outcome of the last save in this request */
	private static $saved = array();

	public static function is_server_screen(): bool {
		$screen = function_exists( 'get_current_screen' ) ? get_current_screen() : null;
		return $screen && 'post' === $screen->base && Config::host_post_type() === $screen->post_type;
	}

	/**
	 * add_meta_boxes: on the host's server screen only.
	 *
	 * @param mixed $post_type
	 */
	public static function on_add_meta_boxes( $post_type ): void {
		if ( Config::host_post_type() === $post_type ) {
			self::register();
		}
	}

	/**
	 * save_post: servers only (the post type is a setting, so not save_post_{type}).
	 *
	 * @param mixed $post_id
	 * @param mixed $post
	 */
	public static function on_save_post( $post_id, $post ): void {
		if ( $post instanceof WP_Post && Config::host_post_type() === $post->post_type ) {
			self::save( (int) $post_id, $post );
		}
	}

	public static function register(): void {
		if ( ! current_user_can( Config::required_capability() ) ) {
			return;
		}
		add_meta_box( self::BOX_ID, __( 'Snapshots', 'scheduled-snapshots' ), array( self::class, 'render' ), Config::host_post_type(), 'normal', 'default' );
	}

	public static function render( WP_Post $post ): void {
		echo '<div class="ss-server-box" data-server-id="' . esc_attr( (string) $post->ID ) . '">';
		if ( 'auto-draft' === $post->post_status ) {
			echo '<p>' . esc_html__( 'Save the server first; then choose its snapshot schedules here.', 'scheduled-snapshots' ) . '</p></div>';
			return;
		}
		$client    = Sidecar_Client::from_config();
		$detail    = $client->get( '/api/v1/servers/' . $post->ID );
		$schedules = $client->get( '/api/v1/schedules' );
		$error     = is_wp_error( $detail ) ? $detail : ( is_wp_error( $schedules ) ? $schedules : null );
		if ( $error ) {
			// No checkboxes, and no "present" marker: Update must not clear this server's schedules.
			Notices::print_inline_error( $error );
			echo '</div>';
			return;
		}
		$detail = Api_Shapes::server_detail( $detail );
		if ( null === $detail ) {
			Notices::print_inline_error( new WP_Error( 'ss_bad_response', __( 'The snapshot service sent an answer about this server that this screen cannot read.', 'scheduled-snapshots' ) ) );
			echo '</div>';
			return;
		}
		$all = array();
		foreach ( Api_Shapes::items( $schedules ) as $raw ) {
			$schedule = Api_Shapes::schedule( $raw );
			if ( null !== $schedule ) {
				$all[] = $schedule;
			}
		}
		$assigned = array();
		foreach ( $detail['schedules'] as $item ) {
			$assigned[ $item['scheduleId'] ] = $item;
		}
		$server = $detail['server'];

		if ( '' !== $server['problem'] ) {
			echo '<div class="notice notice-warning inline ss-server-problem"><p>' . esc_html( $server['problem'] ) . '</p></div>';
		}
		self::render_limits( $server );

		wp_nonce_field( 'ss_server_schedules_' . $post->ID, self::NONCE_FIELD );
		echo '<input type="hidden" name="' . esc_attr( self::PRESENT_FIELD ) . '" value="1" />';
		echo '<h4>' . esc_html__( 'Schedules', 'scheduled-snapshots' ) . '</h4>';
		if ( ! $all ) {
			echo '<p id="ss-server-no-schedules">' . esc_html__( 'No schedules yet.', 'scheduled-snapshots' ) . ' <a href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SCHEDULES, array( 'view' => 'new' ) ) ) . '">' . esc_html__( 'Add a schedule', 'scheduled-snapshots' ) . '</a></p>';
		} else {
			echo '<ul class="ss-server-schedules" id="ss-server-schedules">';
			foreach ( $all as $schedule ) {
				$is_on = isset( $assigned[ $schedule['id'] ] );
				$next  = $is_on ? $assigned[ $schedule['id'] ]['nextRunAt'] : null;
				$issue = $is_on ? $assigned[ $schedule['id'] ]['problem'] : '';
				printf(
					'<li data-schedule-id="%2$s"><label><input type="checkbox" name="%1$s[]" value="%2$s" id="ss-server-schedule-%2$s"%3$s /> %4$s</label> <span class="description">— %5$s<span class="ss-next-run">%6$s</span></span>%7$s</li>',
					esc_attr( self::IDS_FIELD ),
					esc_attr( $schedule['id'] ),
					checked( $is_on, true, false ),
					esc_html( '' !== $schedule['name'] ? $schedule['name'] : __( '(no name)', 'scheduled-snapshots' ) ),
					esc_html( '' !== $schedule['frequency'] ? $schedule['frequency'] : Display::frequency( $schedule['intervalMinutes'], $schedule['cron'] ) ),
					$is_on ? esc_html( self::next_run_words( $next, $schedule['enabled'] ) ) : '',
					'' !== $issue ? '<br /><span class="ss-last-error">' . esc_html( $issue ) . '</span>' : ''
				);
			}
			echo '</ul>';
			echo '<p class="description">' . esc_html__( 'Click Update to save the schedules of this server.', 'scheduled-snapshots' ) . '</p>';
		}

		echo '<h4>' . esc_html__( 'Last snapshot', 'scheduled-snapshots' ) . '</h4>';
		$last = $detail['lastSnapshot'];
		if ( null === $last ) {
			echo '<p id="ss-server-last-snapshot">' . esc_html__( 'No snapshots yet.', 'scheduled-snapshots' ) . '</p>';
		} else {
			printf(
				'<p id="ss-server-last-snapshot" data-status="%1$s"><a href="%2$s">%3$s</a> — <span class="ss-status ss-status-%1$s">%4$s</span> (%5$s)%6$s</p>',
				esc_attr( sanitize_html_class( $last['status'] ) ),
				esc_url( Snapshots_Screen::edit_url( $last['id'] ) ),
				esc_html( null === $last['createdAt'] ? $last['name'] : Display::time( $last['createdAt'] ) ),
				esc_html( Display::status( $last['status'] ) ),
				esc_html( Display::origin( $last['origin'] ) ),
				'' !== $last['lastError'] && in_array( $last['status'], array( 'failed', 'delete_failed' ), true ) ? '<br /><span class="ss-last-error">' . esc_html( $last['lastError'] ) . '</span>' : ''
			);
		}

		$can_create = null === $server['capabilities'] || $server['capabilities']['create'];
		echo '<p class="ss-server-actions">';
		printf(
			'<button type="submit" class="button" id="ss-take-snapshot-now" form="ss-take-snapshot-form"%1$s>%2$s</button> ',
			$can_create && '' === $server['problem'] ? '' : ' disabled="disabled"',
			esc_html__( 'Take snapshot now', 'scheduled-snapshots' )
		);
		printf(
			'<a href="%1$s" id="ss-server-snapshots-link">%2$s</a>',
			esc_url( Admin_Menu::page_url( Admin_Menu::SNAPSHOTS, array( 'serverId' => $post->ID ) ) ),
			esc_html__( 'View this server\'s snapshots', 'scheduled-snapshots' )
		);
		echo '</p></div>';
	}

	private static function next_run_words( ?string $next, bool $enabled ): string {
		if ( ! $enabled ) {
			return ' — ' . __( 'schedule disabled', 'scheduled-snapshots' );
		}
		if ( null === $next ) {
			return '';
		}
		/* translators: 1: date and time, 2: relative time */
		return ' — ' . sprintf( __( 'next run %1$s (%2$s)', 'scheduled-snapshots' ), Display::time( $next ), Display::relative( $next ) );
	}

	/**
	 * What the provider cannot do, from its capabilities.
	 */
	private static function render_limits( array $server ): void {
		$caps = $server['capabilities'];
		if ( null === $caps ) {
			return;
		}
		$provider = '' !== $server['providerName'] ? $server['providerName'] : ( '' !== $server['provider'] ? $server['provider'] : __( 'This provider', 'scheduled-snapshots' ) );
		$limits   = array();
		if ( ! $caps['create'] ) {
			/* translators: %s: provider */
			$limits[] = sprintf( __( '%s cannot take snapshots through its API: schedules do nothing for this server.', 'scheduled-snapshots' ), $provider );
		}
		if ( ! $caps['delete'] ) {
			/* translators: %s: provider */
			$limits[] = sprintf( __( '%s cannot delete snapshots through its API: retention and Trash remove only the records here, and the copies at the provider stay.', 'scheduled-snapshots' ), $provider );
		}
		if ( null !== $caps['slotsPerServer'] && $caps['slotsPerServer'] > 0 ) {
			/* translators: 1: provider, 2: number of snapshots */
			$limits[] = sprintf( _n( '%1$s keeps only %2$d snapshot per server: a new one replaces the previous one, which stays in the list as history.', '%1$s keeps only %2$d snapshots per server: new ones replace the oldest, which stay in the list as history.', $caps['slotsPerServer'], 'scheduled-snapshots' ), $provider, $caps['slotsPerServer'] );
		}
		if ( $limits ) {
			echo '<div class="ss-provider-limits" id="ss-provider-limits"><p><strong>' . esc_html(
				/* translators: %s: provider */
				sprintf( __( 'What %s cannot do', 'scheduled-snapshots' ), $provider )
			) . '</strong></p><ul class="ul-disc">';
			foreach ( $limits as $limit ) {
				echo '<li>' . esc_html( $limit ) . '</li>';
			}
			echo '</ul></div>';
		}
		foreach ( array_unique( $caps['notes'] ) as $note ) {
			echo '<p class="description ss-provider-note">' . esc_html( $note ) . '</p>';
		}
	}

	/**
	 * save_post_{host post type}: the host's Update button saves this box too.
	 */
	public static function save( int $post_id, WP_Post $post ): void {
		if ( ( defined( 'DOING_AUTOSAVE' ) && DOING_AUTOSAVE ) || wp_is_post_revision( $post_id ) || wp_is_post_autosave( $post_id ) ) {
			return;
		}
		// phpcs:disable WordPress.Security.NonceVerification.Missing -- this is the nonce check
		if ( ! isset( $_POST[ self::NONCE_FIELD ] ) || ! wp_verify_nonce( sanitize_key( wp_unslash( $_POST[ self::NONCE_FIELD ] ) ), 'ss_server_schedules_' . $post_id ) ) {
			return;
		}
		if ( ! current_user_can( Config::required_capability() ) || ! current_user_can( 'edit_post', $post_id ) ) {
			return;
		}
		if ( empty( $_POST[ self::PRESENT_FIELD ] ) ) {
			return;
		}
		$ids = array();
		$raw = isset( $_POST[ self::IDS_FIELD ] ) && is_array( $_POST[ self::IDS_FIELD ] ) ? wp_unslash( $_POST[ self::IDS_FIELD ] ) : array();
		// phpcs:enable
		foreach ( $raw as $value ) {
			$id = is_string( $value ) ? Api_Shapes::id( $value ) : null;
			if ( null !== $id ) {
				$ids[] = ctype_digit( $id ) ? (int) $id : $id;
			}
		}
		$answer = Sidecar_Client::from_config()->put( '/api/v1/servers/' . $post_id . '/schedules', array( 'scheduleIds' => array_values( array_unique( $ids, SORT_REGULAR ) ) ) );
		self::$saved[ $post_id ] = is_wp_error( $answer ) ? $answer : true;
	}

	/**
	 * redirect_post_location: say on the reloaded server screen whether the schedules saved.
	 */
	public static function redirect_location( string $location, int $post_id ): string {
		if ( ! isset( self::$saved[ $post_id ] ) ) {
			return $location;
		}
		$outcome = self::$saved[ $post_id ];
		unset( self::$saved[ $post_id ] );
		return true === $outcome ? Notices::url( $location, 'server-schedules-saved' ) : Notices::error_url( $location, $outcome );
	}

	/**
	 * admin_footer: the form "Take snapshot now" submits (forms cannot nest in the post form).
	 */
	public static function print_take_snapshot_form(): void {
		if ( ! self::is_server_screen() || ! current_user_can( Config::required_capability() ) ) {
			return;
		}
		$post = get_post();
		if ( ! $post || 'auto-draft' === $post->post_status ) {
			return;
		}
		echo '<form id="ss-take-snapshot-form" method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" hidden>';
		echo '<input type="hidden" name="action" value="ss_take_snapshot" />';
		echo '<input type="hidden" name="server" value="' . esc_attr( (string) $post->ID ) . '" />';
		wp_nonce_field( Admin_Action::nonce_action( 'ss_take_snapshot', (string) $post->ID ) );
		echo '</form>';
	}

	/** admin-post.php, POST action=ss_take_snapshot&server=ID. */
	public static function take_snapshot(): void {
		Admin_Action::require_capability();
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- verified on the next line
		$server_id = isset( $_POST['server'] ) ? absint( $_POST['server'] ) : 0;
		Admin_Action::require_nonce( 'ss_take_snapshot', (string) $server_id );
		$post = $server_id ? get_post( $server_id ) : null;
		if ( ! $post || Config::host_post_type() !== $post->post_type ) {
			wp_die( esc_html__( 'That server does not exist.', 'scheduled-snapshots' ), 404 );
		}
		$back   = admin_url( 'post.php?post=' . $server_id . '&action=edit' );
		$answer = Sidecar_Client::from_config()->post( '/api/v1/servers/' . $server_id . '/snapshots', array() );
		if ( is_wp_error( $answer ) ) {
			Admin_Action::redirect( Notices::error_url( $back, $answer ) );
		}
		Admin_Action::redirect( Notices::url( $back, 'snapshot-requested' ) );
	}
}
