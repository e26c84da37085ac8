<?php
/**
 * Settings: the sidecar's address, and a connection check that says exactly what is wrong
 * (secret constant missing or too short / service not reachable / signature refused).
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

use WP_Error;

defined( 'ABSPATH' ) || exit;

final class Settings_Screen {

	public static function load(): void {
	}

	/**
	 * A "Settings" link on the Plugins screen.
	 *
	 * @param mixed $links
	 * @return array
	 */
	public static function action_links( $links ): array {
		$links = is_array( $links ) ? $links : array();
		if ( current_user_can( Config::required_capability() ) ) {
			array_unshift( $links, '<a href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SETTINGS ) ) . '">' . esc_html__( 'Settings', 'scheduled-snapshots' ) . '</a>' );
		}
		return $links;
	}

	/**
	 * Check the connection step by step. Each step: [ id, ok (bool|null = not tried), sentence ].
	 *
	 * @return array<int,array{id:string,ok:?bool,message:string,code:string}>
	 */
	public static function check_connection( Sidecar_Client $client ): array {
		$steps   = array();
		$problem = $client->secret_problem();
		$steps[] = array(
			'id'      => 'secret',
			'ok'      => null === $problem,
			'code'    => $problem ? (string) $problem->get_error_code() : 'ok',
			'message' => $problem ? $problem->get_error_message() : __( 'SS_SHARED_SECRET is defined in wp-config.php and long enough. (It is never shown.)', 'scheduled-snapshots' ),
		);

		$health  = $client->health();
		$steps[] = array(
			'id'      => 'reachable',
			'ok'      => true === $health,
			'code'    => true === $health ? 'ok' : (string) $health->get_error_code(),
			'message' => true === $health
				/* translators: %s: URL */
				? sprintf( __( 'The snapshot service answers at %s.', 'scheduled-snapshots' ), $client->base_url() )
				: $health->get_error_message(),
		);

		if ( $problem || true !== $health ) {
			$steps[] = array(
				'id'      => 'signature',
				'ok'      => null,
				'code'    => 'not-tried',
				'message' => __( 'Signed requests were not tried: fix the problem above first.', 'scheduled-snapshots' ),
			);
			return $steps;
		}
		$signed  = $client->get( '/api/v1/providers' );
		$ok      = ! is_wp_error( $signed );
		$steps[] = array(
			'id'      => 'signature',
			'ok'      => $ok,
			'code'    => $ok ? 'ok' : (string) $signed->get_error_code(),
			'message' => $ok ? __( 'The service accepts this site\'s signed requests: the shared secrets match.', 'scheduled-snapshots' ) : $signed->get_error_message(),
		);
		return $steps;
	}

	public static function render(): void {
		if ( ! current_user_can( Config::required_capability() ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage snapshots.', 'scheduled-snapshots' ), 403 );
		}
		$locked = Config::sidecar_url_is_locked();
		echo '<div class="wrap ss-wrap" id="ss-settings-screen">';
		echo '<h1>' . esc_html__( 'Snapshot Settings', 'scheduled-snapshots' ) . '</h1>';

		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" id="ss-settings-form">';
		echo '<input type="hidden" name="action" value="ss_save_settings" />';
		wp_nonce_field( Admin_Action::nonce_action( 'ss_save_settings', 'settings' ) );
		echo '<table class="form-table" role="presentation"><tbody><tr><th scope="row"><label for="ss-sidecar-url">' . esc_html__( 'Snapshot service address', 'scheduled-snapshots' ) . '</label></th><td>';
		printf(
			'<input type="url" class="regular-text code" id="ss-sidecar-url" name="ss_sidecar_url" value="%1$s" placeholder="%2$s"%3$s />',
			esc_attr( Config::sidecar_url() ),
			esc_attr( Config::DEFAULT_SIDECAR_URL ),
			$locked ? ' readonly="readonly"' : ''
		);
		if ( $locked ) {
			echo '<p class="description">' . esc_html__( 'Set by SS_SIDECAR_URL in wp-config.php; change it there.', 'scheduled-snapshots' ) . '</p>';
		} else {
			echo '<p class="description">' . esc_html__( 'Where the sidecar listens (its SS_LISTEN). Default: http://127.0.0.1:8787. Can also be set with SS_SIDECAR_URL in wp-config.php.', 'scheduled-snapshots' ) . '</p>';
		}
		echo '</td></tr>';
		echo '<tr><th scope="row">' . esc_html__( 'Shared secret', 'scheduled-snapshots' ) . '</th><td><p>' . esc_html__( 'Only in wp-config.php: define( \'SS_SHARED_SECRET\', \'…\' ); — the same value as the sidecar\'s SS_SHARED_SECRET, at least 32 characters. It is never stored in the database or shown here.', 'scheduled-snapshots' ) . '</p></td></tr>';
		echo '</tbody></table>';
		if ( ! $locked ) {
			submit_button( __( 'Save Changes', 'scheduled-snapshots' ), 'primary', 'submit', true, array( 'id' => 'ss-settings-submit' ) );
		}
		echo '</form>';

		echo '<h2>' . esc_html__( 'Connection check', 'scheduled-snapshots' ) . '</h2>';
		echo '<ul class="ss-connection-check" id="ss-connection-check">';
		foreach ( self::check_connection( Sidecar_Client::from_config() ) as $step ) {
			$state = null === $step['ok'] ? 'skipped' : ( $step['ok'] ? 'ok' : 'failed' );
			$icon  = null === $step['ok'] ? 'dashicons-minus' : ( $step['ok'] ? 'dashicons-yes-alt' : 'dashicons-warning' );
			printf(
				'<li class="ss-check ss-check-%1$s" id="ss-check-%2$s" data-state="%1$s" data-code="%3$s"><span class="dashicons %4$s" aria-hidden="true"></span> %5$s</li>',
				esc_attr( $state ),
				esc_attr( $step['id'] ),
				esc_attr( $step['code'] ),
				esc_attr( $icon ),
				esc_html( $step['message'] )
			);
		}
		echo '</ul>';
		echo '<p><a class="button" id="ss-check-again" href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SETTINGS ) ) . '">' . esc_html__( 'Check again', 'scheduled-snapshots' ) . '</a></p>';
		echo '</div>';
	}

	/** admin-post.php, POST action=ss_save_settings. */
	public static function save(): void {
		Admin_Action::require_capability();
		Admin_Action::require_nonce( 'ss_save_settings', 'settings' );
		$back = Admin_Menu::page_url( Admin_Menu::SETTINGS );
		if ( Config::sidecar_url_is_locked() ) {
			Admin_Action::redirect( $back );
		}
		$url = isset( $_POST['ss_sidecar_url'] ) ? trim( sanitize_text_field( wp_unslash( $_POST['ss_sidecar_url'] ) ) ) : '';
		if ( '' === $url ) {
			delete_option( Config::OPTION_SIDECAR_URL );
			Admin_Action::redirect( Notices::url( $back, 'settings-saved' ) );
		}
		$url = untrailingslashit( esc_url_raw( $url, array( 'http', 'https' ) ) );
		if ( '' === $url || ! Config::is_valid_sidecar_url( $url ) ) {
			Admin_Action::redirect( Notices::url( $back, 'settings-invalid-url' ) );
		}
		update_option( Config::OPTION_SIDECAR_URL, $url, false );
		Admin_Action::redirect( Notices::url( $back, 'settings-saved' ) );
	}
}
