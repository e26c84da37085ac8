<?php
/**
 * admin-post handlers for schedules, and the form's live preview (admin-ajax).
 * Each handler: capability → nonce bound to the schedule → API call → redirect with a code.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Schedule_Actions {

	/** admin-post.php?action=ss_save_schedule (POST, schedule=new|id). */
	public static function save(): void {
		Admin_Action::require_capability();
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- verified on the next line
		$object = isset( $_POST['schedule'] ) && 'new' === $_POST['schedule'] ? 'new' : Admin_Action::request_id( 'schedule' );
		Admin_Action::require_nonce( 'ss_save_schedule', (string) $object );
		if ( null === $object ) {
			wp_die( esc_html__( 'That schedule id is not valid.', 'scheduled-snapshots' ), 400 );
		}

		$values   = Schedule_Form::values_from_request( $_POST ); // phpcs:ignore WordPress.Security.NonceVerification.Missing -- verified above
		$form_url = Admin_Menu::page_url(
			Admin_Menu::SCHEDULES,
			'new' === $object ? array( 'view' => 'new' ) : array( 'view' => 'edit', 'schedule' => rawurlencode( $object ) )
		);

		$local = Schedule_Form::local_errors( $values );
		if ( $local ) {
			self::keep_form_state( $object, $values, $local );
			Admin_Action::redirect( Notices::url( $form_url, 'schedule-invalid' ) );
		}

		$client = Sidecar_Client::from_config();
		$body   = Schedule_Form::body( $values );
		$answer = 'new' === $object
			? $client->post( '/api/v1/schedules', $body )
			: $client->put( '/api/v1/schedules/' . rawurlencode( $object ), $body );

		if ( is_wp_error( $answer ) ) {
			$data   = $answer->get_error_data();
			$fields = is_array( $data ) && ! empty( $data['fields'] ) ? Schedule_Form::field_errors( $data['fields'] ) : array();
			if ( ! $fields && is_array( $data ) && 400 === ( $data['status'] ?? 0 ) ) {
				$fields = array( '' => $answer->get_error_message() );
			}
			if ( $fields ) {
				self::keep_form_state( $object, $values, $fields );
				Admin_Action::redirect( Notices::url( $form_url, 'schedule-invalid' ) );
			}
			// Service down, 404, 409: keep what was typed and say why.
			self::keep_form_state( $object, $values, array() );
			Admin_Action::redirect( Notices::error_url( $form_url, $answer ) );
		}

		Admin_Action::redirect( Notices::url( Admin_Menu::page_url( Admin_Menu::SCHEDULES ), 'new' === $object ? 'schedule-created' : 'schedule-updated' ) );
	}

	/** admin-post.php?action=ss_delete_schedule (POST from the confirmation view). */
	public static function delete(): void {
		Admin_Action::require_capability();
		$id = Admin_Action::request_id( 'schedule' );
		Admin_Action::require_nonce( 'ss_delete_schedule', (string) $id );
		if ( null === $id ) {
			wp_die( esc_html__( 'That schedule id is not valid.', 'scheduled-snapshots' ), 400 );
		}
		$answer = Sidecar_Client::from_config()->delete( '/api/v1/schedules/' . rawurlencode( $id ) );
		$list   = Admin_Menu::page_url( Admin_Menu::SCHEDULES );
		if ( is_wp_error( $answer ) ) {
			Admin_Action::redirect( Notices::error_url( $list, $answer ) );
		}
		$kept = Api_Shapes::int_or_null( $answer['snapshotsKept'] ?? 0 );
		Admin_Action::redirect( Notices::url( $list, 'schedule-deleted', max( 0, (int) $kept ) ) );
	}

	/**
	 * admin-ajax.php?action=ss_schedule_preview: next runs and retention in words for the
	 * form as it is now. Answers { nextRuns: [{ iso, text, relative }], retentionSummary,
	 * fields, message }.
	 */
	public static function ajax_preview(): void {
		if ( ! current_user_can( Config::required_capability() ) ) {
			wp_send_json_error( array( 'message' => __( 'Sorry, you are not allowed to manage snapshots.', 'scheduled-snapshots' ) ), 403 );
		}
		check_ajax_referer( 'ss_schedule_preview' );
		$values = Schedule_Form::values_from_request( $_POST );
		$local  = Schedule_Form::local_errors( $values );
		if ( $local ) {
			wp_send_json_success( array( 'nextRuns' => array(), 'retentionSummary' => '', 'fields' => $local, 'message' => '' ) );
		}
		$answer = Sidecar_Client::from_config()->post( '/api/v1/schedules/preview', Schedule_Form::preview_body( $values ) );
		if ( is_wp_error( $answer ) ) {
			$data = $answer->get_error_data();
			wp_send_json_success(
				array(
					'nextRuns'         => array(),
					'retentionSummary' => '',
					'fields'           => is_array( $data ) && ! empty( $data['fields'] ) ? Schedule_Form::field_errors( $data['fields'] ) : (object) array(),
					'message'          => $answer->get_error_message(),
				)
			);
		}
		$preview = Schedules_Screen::preview_from_answer( $answer );
		$runs    = array();
		foreach ( $preview['nextRuns'] as $iso ) {
			$runs[] = array(
				'iso'      => $iso,
				'text'     => Display::time( $iso ),
				'relative' => Display::relative( $iso ),
			);
		}
		wp_send_json_success(
			array(
				'nextRuns'         => $runs,
				'retentionSummary' => $preview['retentionSummary'],
				'fields'           => (object) array(),
				'message'          => '',
			)
		);
	}

	/**
	 * What was typed and what was wrong, for the form the handler redirects to.
	 */
	private static function keep_form_state( string $object, array $values, array $errors ): void {
		set_transient(
			'ss_schedule_form_' . get_current_user_id(),
			array(
				'object' => $object,
				'values' => $values,
				'errors' => $errors,
			),
			10 * MINUTE_IN_SECONDS
		);
	}

	/**
	 * @return array{values:array,errors:array}|null
	 */
	public static function take_form_state( string $object ): ?array {
		$key   = 'ss_schedule_form_' . get_current_user_id();
		$state = get_transient( $key );
		if ( ! is_array( $state ) || ( $state['object'] ?? null ) !== $object || ! isset( $state['values'], $state['errors'] ) ) {
			return null;
		}
		delete_transient( $key );
		return array(
			'values' => array_replace_recursive( Schedule_Form::defaults(), (array) $state['values'] ),
			'errors' => (array) $state['errors'],
		);
	}
}
