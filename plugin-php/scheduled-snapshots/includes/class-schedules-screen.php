<?php
/**
 * Schedules screen: the list (default), Add New / Edit form (view=new, view=edit), and the
 * delete confirmation (view=delete). Forms post to admin-post.php (Schedule_Actions).
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Schedules_Screen {

	/** @var Schedules_List_Table|null */
	private static $table = null;

	public static function view(): string {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- selects a view only
		$view = isset( $_GET['view'] ) ? sanitize_key( wp_unslash( $_GET['view'] ) ) : '';
		return in_array( $view, array( 'new', 'edit', 'delete' ), true ) ? $view : 'list';
	}

	/** load-{hook}: before any output. */
	public static function load(): void {
		if ( 'list' === self::view() ) {
			self::$table = self::make_table();
		}
	}

	public static function make_table(): Schedules_List_Table {
		require_once ABSPATH . 'wp-admin/includes/class-wp-list-table.php';
		require_once __DIR__ . '/class-schedules-list-table.php';
		return new Schedules_List_Table();
	}

	public static function render(): void {
		if ( ! current_user_can( Config::required_capability() ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage snapshots.', 'scheduled-snapshots' ), 403 );
		}
		echo '<div class="wrap ss-wrap" id="ss-schedules-screen">';
		switch ( self::view() ) {
			case 'new':
				self::render_form( null );
				break;
			case 'edit':
				self::render_form( Admin_Action::query_id( 'schedule' ) );
				break;
			case 'delete':
				self::render_delete( Admin_Action::query_id( 'schedule' ) );
				break;
			default:
				self::render_list();
		}
		echo '</div>';
	}

	private static function render_list(): void {
		$table = self::$table ?: self::make_table();
		$table->prepare_items();
		echo '<h1 class="wp-heading-inline">' . esc_html__( 'Schedules', 'scheduled-snapshots' ) . '</h1> ';
		echo '<a href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SCHEDULES, array( 'view' => 'new' ) ) ) . '" class="page-title-action" id="ss-add-schedule">' . esc_html__( 'Add New', 'scheduled-snapshots' ) . '</a>';
		echo '<hr class="wp-header-end" />';
		if ( $table->error ) {
			Notices::print_inline_error( $table->error );
		}
		echo '<p class="description">' . esc_html__( 'A schedule says how often servers are snapshotted and which snapshots are kept. Choose schedules for a server in its Snapshots box, then click Update.', 'scheduled-snapshots' ) . '</p>';
		$table->display();
	}

	/**
	 * @param string|null $schedule_id Null: a new schedule.
	 */
	private static function render_form( ?string $schedule_id ): void {
		$is_new = null === $schedule_id;
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- display only
		$is_edit_request = isset( $_GET['view'] ) && 'edit' === $_GET['view'];
		echo '<h1>' . esc_html( $is_new ? __( 'Add New Schedule', 'scheduled-snapshots' ) : __( 'Edit Schedule', 'scheduled-snapshots' ) ) . '</h1>';

		if ( $is_new && $is_edit_request ) {
			Notices::print_box( 'error', __( 'That schedule id is not valid.', 'scheduled-snapshots' ) );
			return;
		}

		$client = Sidecar_Client::from_config();
		$values = Schedule_Form::defaults();
		$errors = array();
		if ( ! $is_new ) {
			$json     = $client->get( '/api/v1/schedules/' . rawurlencode( $schedule_id ) );
			$schedule = is_wp_error( $json ) ? null : Api_Shapes::schedule( $json['schedule'] ?? $json );
			if ( is_wp_error( $json ) ) {
				Notices::print_inline_error( $json );
				return;
			}
			if ( null === $schedule ) {
				Notices::print_box( 'error', __( 'The snapshot service sent a schedule this screen cannot read.', 'scheduled-snapshots' ) );
				return;
			}
			$values = Schedule_Form::values_from_schedule( $schedule );
		}

		// Back from a save that the API refused: show what was typed, with the messages.
		$kept = Schedule_Actions::take_form_state( $is_new ? 'new' : $schedule_id );
		if ( null !== $kept ) {
			$values = $kept['values'];
			$errors = $kept['errors'];
		}

		$preview = null;
		$answer  = $client->post( '/api/v1/schedules/preview', Schedule_Form::preview_body( $values ) );
		if ( is_wp_error( $answer ) ) {
			if ( 'ss_api_error' !== $answer->get_error_code() ) {
				Notices::print_inline_error( $answer );
			}
		} else {
			$preview = self::preview_from_answer( $answer );
		}

		Schedule_Form::render( $schedule_id, $values, $errors, $preview );
	}

	/**
	 * @return array{nextRuns:string[],retentionSummary:string}
	 */
	public static function preview_from_answer( array $answer ): array {
		$runs = array();
		foreach ( isset( $answer['nextRuns'] ) && is_array( $answer['nextRuns'] ) ? $answer['nextRuns'] : array() as $iso ) {
			$iso = Api_Shapes::iso( $iso );
			if ( null !== $iso ) {
				$runs[] = $iso;
			}
		}
		return array(
			'nextRuns'         => array_slice( $runs, 0, 10 ),
			'retentionSummary' => Api_Shapes::str( $answer['retentionSummary'] ?? '' ),
		);
	}

	private static function render_delete( ?string $schedule_id ): void {
		echo '<h1>' . esc_html__( 'Delete Schedule', 'scheduled-snapshots' ) . '</h1>';
		if ( null === $schedule_id ) {
			Notices::print_box( 'error', __( 'That schedule id is not valid.', 'scheduled-snapshots' ) );
			return;
		}
		$json = Sidecar_Client::from_config()->get( '/api/v1/schedules/' . rawurlencode( $schedule_id ) );
		if ( is_wp_error( $json ) ) {
			Notices::print_inline_error( $json );
			return;
		}
		$schedule = Api_Shapes::schedule( $json['schedule'] ?? $json );
		if ( null === $schedule ) {
			Notices::print_box( 'error', __( 'The snapshot service sent a schedule this screen cannot read.', 'scheduled-snapshots' ) );
			return;
		}
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" id="ss-delete-schedule-form">';
		echo '<input type="hidden" name="action" value="ss_delete_schedule" />';
		echo '<input type="hidden" name="schedule" value="' . esc_attr( $schedule['id'] ) . '" />';
		wp_nonce_field( Admin_Action::nonce_action( 'ss_delete_schedule', $schedule['id'] ) );
		echo '<p>' . esc_html(
			sprintf(
				/* translators: %s: schedule name */
				__( 'You are about to delete the schedule “%s”.', 'scheduled-snapshots' ),
				$schedule['name']
			)
		) . '</p>';
		echo '<ul class="ul-disc" id="ss-delete-schedule-consequences">';
		echo '<li><strong>' . esc_html__( 'Its snapshots are kept.', 'scheduled-snapshots' ) . '</strong> ' . esc_html__( 'Nothing is deleted at the provider; they stay in the Snapshots list with their protection unchanged, and this schedule\'s retention no longer deletes any of them. You can delete them by hand there.', 'scheduled-snapshots' ) . '</li>';
		echo '<li>' . esc_html(
			sprintf(
				/* translators: %d: number of servers */
				_n( '%d server uses this schedule; it will no longer be snapshotted by it.', '%d servers use this schedule; they will no longer be snapshotted by it.', $schedule['serverCount'], 'scheduled-snapshots' ),
				$schedule['serverCount']
			)
		) . '</li>';
		echo '</ul>';
		submit_button( __( 'Delete Schedule', 'scheduled-snapshots' ), 'primary button-primary-destructive', 'submit', false, array( 'id' => 'ss-confirm-delete-schedule' ) );
		echo ' <a class="button" href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SCHEDULES ) ) . '">' . esc_html__( 'Cancel', 'scheduled-snapshots' ) . '</a>';
		echo '</form>';
	}
}
