<?php
/**
 * Plugin Name:       Scheduled Snapshots
 * Description:       Snapshots your cloud servers on schedules you choose, deletes old snapshots by retention rules you can read, and keeps a list you can clean up by hand. Works with WPCloudDeploy-style panels; the work is done by the Scheduled Snapshots sidecar service.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * License:           GPL-2.0-or-later
 * Text Domain:       scheduled-snapshots
 *
 * This file holds only the header, guards and hook registrations. Each screen, action and
 * seam lives in its own class under includes/.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const VERSION     = '0.1.0';
const MIN_PHP     = '7.4';
const PLUGIN_FILE = __FILE__;

/** Why the plugin does not run, told to administrators instead (a callable: translations load later). */
function refuse( callable $why ): void {
	foreach ( array( 'admin_notices', 'network_admin_notices' ) as $hook ) {
		add_action( $hook, static function () use ( $why ) { echo '<div class="notice notice-error ss-refused"><p>' . esc_html( (string) $why() ) . '</p></div>'; } );
	}
}

if ( version_compare( PHP_VERSION, MIN_PHP, '<' ) ) {
	refuse( static function () {
		/* translators: 1: required PHP version, 2: running PHP version */
		return sprintf( __( 'Scheduled Snapshots needs PHP %1$s or newer; this site runs PHP %2$s. The plugin is not running.', 'scheduled-snapshots' ), MIN_PHP, PHP_VERSION );
	} );
	return;
}

require_once __DIR__ . '/includes/class-config.php';
require_once __DIR__ . '/includes/class-request-signature.php';
require_once __DIR__ . '/includes/class-sidecar-client.php';
require_once __DIR__ . '/includes/class-notices.php';
require_once __DIR__ . '/includes/class-admin-menu.php';
require_once __DIR__ . '/includes/class-screens.php';
require_once __DIR__ . '/includes/class-actions.php';
require_once __DIR__ . '/includes/class-server-metabox.php';
require_once __DIR__ . '/includes/class-panel-snapshots.php';

// The sidecar reads one site's tables (wp-config's SS_TABLE_PREFIX names them): elsewhere on a network, refuse.
$ss_prefixes = array( (string) $GLOBALS['wpdb']->prefix, defined( 'SS_TABLE_PREFIX' ) ? (string) SS_TABLE_PREFIX : null );
if ( $ss_prefixes[1] && $ss_prefixes[0] !== $ss_prefixes[1] ) {
	refuse( static function () use ( $ss_prefixes ) { return Config::prefix_problem( ...$ss_prefixes ); } );
	return;
}

add_action(
	'init',
	static function () {
		load_plugin_textdomain( 'scheduled-snapshots', false, dirname( plugin_basename( PLUGIN_FILE ) ) . '/languages' );
	}
);

// Screens: drawn by the sidecar, one signed request each (includes/class-screens.php).
add_action( 'admin_menu', array( Admin_Menu::class, 'register' ) );
add_action( 'admin_enqueue_scripts', array( Screens::class, 'maybe_enqueue_for_server' ) );
add_action( 'wp_dashboard_setup', array( Screens::class, 'add_dashboard_widget' ) );
add_action( 'admin_notices', array( Screens::class, 'host_list_notice' ) );
add_filter( 'set_screen_option_' . Screens::PER_PAGE_OPTION, array( Screens::class, 'save_per_page' ), 10, 3 );

// The Snapshots box on the host's server screen, saved by the host's Update button.
add_action( 'add_meta_boxes', array( Server_Metabox::class, 'on_add_meta_boxes' ), 10, 2 );
add_filter( 'wpcd_server_wordpress-app_get_tabs', array( Server_Metabox::class, 'backup_tab_fields' ), 20, 2 );
add_action( 'save_post', array( Server_Metabox::class, 'on_save_post' ), 10, 2 );
add_filter( 'redirect_post_location', array( Server_Metabox::class, 'redirect_location' ), 10, 2 );
add_action( 'admin_footer', array( Server_Metabox::class, 'print_take_snapshot_form' ) );

// admin-post.php handlers: capability → nonce → sidecar → redirect with a message code.
Actions::register();

// Snapshots the host's backup tab takes enter our list.
add_action( Panel_Snapshots::HOST_HOOK, array( Panel_Snapshots::class, 'record' ), 10, 4 );
add_action( 'admin_init', array( Panel_Snapshots::class, 'retry' ) );
add_action( Panel_Snapshots::RETRY, array( Panel_Snapshots::class, 'retry' ) );

add_filter(
	'plugin_action_links_' . plugin_basename( __FILE__ ),
	static function ( $links ) {
		$links = is_array( $links ) ? $links : array();
		if ( current_user_can( Config::required_capability() ) ) {
			array_unshift( $links, '<a href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SETTINGS ) ) . '">' . esc_html__( 'Settings', 'scheduled-snapshots' ) . '</a>' );
		}
		return $links;
	}
);
