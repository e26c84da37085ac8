<?php
/**
 * Our small script and stylesheet, on our screens and the host's server screen only.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Assets {

	/** load-{our page hook}. */
	public static function enqueue_for_screens(): void {
		add_action( 'admin_enqueue_scripts', array( self::class, 'enqueue' ) );
	}

	/** admin_enqueue_scripts on any screen: only the server edit screen needs us there. */
	public static function maybe_enqueue_for_server( string $hook ): void {
		if ( in_array( $hook, array( 'post.php', 'post-new.php' ), true ) && Server_Metabox::is_server_screen() ) {
			self::enqueue();
		}
	}

	public static function enqueue(): void {
		$base = plugin_dir_url( PLUGIN_FILE ) . 'assets/';
		wp_enqueue_style( 'ss-admin', $base . 'admin.css', array(), VERSION );
		wp_enqueue_script( 'ss-admin', $base . 'admin.js', array(), VERSION, true );
		wp_localize_script(
			'ss-admin',
			'ssAdmin',
			array(
				'ajaxUrl'      => admin_url( 'admin-ajax.php' ),
				'previewNonce' => wp_create_nonce( 'ss_schedule_preview' ),
				'i18n'         => array(
					'previewFailed' => __( 'The preview could not be loaded.', 'scheduled-snapshots' ),
					'noRuns'        => __( 'No runs to show yet.', 'scheduled-snapshots' ),
				),
			)
		);
	}
}
