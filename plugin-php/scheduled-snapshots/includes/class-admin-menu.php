<?php
/**
 * Where the screens live: under the host panel's menu when the host is there (WPCloudDeploy's
 * top-level menu is the server list, edit.php?post_type=wpcd_app_server), else under our
 * own top-level "Snapshots" menu.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Admin_Menu {

	const SCHEDULES = 'ss-schedules';
	const SNAPSHOTS = 'ss-snapshots';
	const SETTINGS  = 'ss-settings';

	/** @var array<string,string> page slug → hook suffix */
	private static $hooks = array();

	/** The host's menu slug, or '' when the host panel is not there. */
	public static function parent_slug(): string {
		$parent = '';
		$type   = get_post_type_object( Config::host_post_type() );
		if ( $type && $type->show_ui ) {
			if ( true === $type->show_in_menu ) {
				$parent = 'edit.php?post_type=' . $type->name;
			} elseif ( is_string( $type->show_in_menu ) && '' !== $type->show_in_menu ) {
				$parent = $type->show_in_menu;
			}
		}
		// Filter ss_menu_parent: '' puts the screens under our own menu.
		$parent = apply_filters( 'ss_menu_parent', $parent );
		return is_string( $parent ) ? $parent : '';
	}

	public static function register(): void {
		$cap    = Config::required_capability();
		$list   = Config::snapshots_capability();
		$parent = self::parent_slug();

		self::$hooks = array();
		if ( '' !== $parent ) {
			self::$hooks[ self::SCHEDULES ] = (string) add_submenu_page( $parent, __( 'Schedules', 'scheduled-snapshots' ), __( 'Schedules', 'scheduled-snapshots' ), $cap, self::SCHEDULES, array( Screens::class, 'render_schedules' ) );
			self::$hooks[ self::SNAPSHOTS ] = (string) add_submenu_page( $parent, __( 'Snapshots', 'scheduled-snapshots' ), __( 'Snapshots', 'scheduled-snapshots' ), $list, self::SNAPSHOTS, array( Screens::class, 'render_snapshots' ) );
			self::$hooks[ self::SETTINGS ]  = (string) add_submenu_page( $parent, __( 'Snapshot Settings', 'scheduled-snapshots' ), __( 'Snapshot Settings', 'scheduled-snapshots' ), $cap, self::SETTINGS, array( Screens::class, 'render_settings' ) );
		} else {
			self::$hooks[ self::SNAPSHOTS ] = (string) add_menu_page( __( 'Snapshots', 'scheduled-snapshots' ), __( 'Snapshots', 'scheduled-snapshots' ), $list, self::SNAPSHOTS, array( Screens::class, 'render_snapshots' ), 'dashicons-backup', 81 );
			add_submenu_page( self::SNAPSHOTS, __( 'Snapshots', 'scheduled-snapshots' ), __( 'Snapshots', 'scheduled-snapshots' ), $list, self::SNAPSHOTS, array( Screens::class, 'render_snapshots' ) );
			self::$hooks[ self::SCHEDULES ] = (string) add_submenu_page( self::SNAPSHOTS, __( 'Schedules', 'scheduled-snapshots' ), __( 'Schedules', 'scheduled-snapshots' ), $cap, self::SCHEDULES, array( Screens::class, 'render_schedules' ) );
			self::$hooks[ self::SETTINGS ]  = (string) add_submenu_page( self::SNAPSHOTS, __( 'Settings', 'scheduled-snapshots' ), __( 'Settings', 'scheduled-snapshots' ), $cap, self::SETTINGS, array( Screens::class, 'render_settings' ) );
		}

		$loaders = array(
			self::SCHEDULES => array( Screens::class, 'load_schedules' ),
			self::SNAPSHOTS => array( Screens::class, 'load_snapshots' ),
			self::SETTINGS  => array( Screens::class, 'load_settings' ),
		);
		foreach ( self::$hooks as $slug => $hook ) {
			if ( '' !== $hook ) {
				add_action( 'load-' . $hook, $loaders[ $slug ] );
			}
		}
	}

	/** Admin URL of one of our pages; works in admin-post.php too, where the menu is not built. */
	public static function page_url( string $slug, array $args = array() ): string {
		$parent = self::parent_slug();
		$base   = '' !== $parent && false !== strpos( $parent, '.php' ) ? admin_url( add_query_arg( 'page', $slug, $parent ) ) : admin_url( 'admin.php?page=' . $slug );
		return $args ? add_query_arg( $args, $base ) : $base;
	}

}
