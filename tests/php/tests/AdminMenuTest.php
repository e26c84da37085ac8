<?php
namespace ScheduledSnapshots\Tests;

use ScheduledSnapshots\Admin_Menu;

/**
 * wp-admin/menu.php can run once per process, so each case builds the menu in its own.
 *
 * @runTestsInSeparateProcesses
 * @preserveGlobalState disabled
 */
final class AdminMenuTest extends Test_Case {

	/**
	 * Build wp-admin's menus the way wp-admin/menu.php does, for the current user.
	 *
	 * @return array{0:array,1:array} [$menu, $submenu]
	 */
	private function build_admin_menu(): array {
		global $menu, $submenu, $_wp_submenu_nopriv, $_wp_menu_nopriv, $_registered_pages, $_parent_pages, $admin_page_hooks, $pagenow, $plugin_page, $typenow, $_wp_real_parent_file;
		$pagenow     = 'index.php';
		$plugin_page = null;
		$typenow     = '';
		set_current_screen( 'dashboard' );
		require ABSPATH . 'wp-admin/menu.php';
		return array( $menu, $submenu );
	}

	private function slugs( array $items ): array {
		return array_map(
			static function ( $item ) {
				return $item[2];
			},
			$items
		);
	}

	public function test_when_the_host_panel_is_there_then_schedules_snapshots_and_settings_sit_under_its_menu(): void {
		$this->login_as( 'administrator' );

		list( $menu, $submenu ) = $this->build_admin_menu();

		$parent = 'edit.php?post_type=wpcd_app_server';
		$this->assertContains( $parent, $this->slugs( $menu ), 'the host registers its top-level menu' );
		$under_host = $this->slugs( $submenu[ $parent ] ?? array() );
		$this->assertContains( 'ss-schedules', $under_host );
		$this->assertContains( 'ss-snapshots', $under_host );
		$this->assertContains( 'ss-settings', $under_host );
		$this->assertNotContains( 'ss-snapshots', $this->slugs( $menu ), 'no top-level menu of our own next to the host' );
		$this->assertSame(
			admin_url( 'edit.php?post_type=wpcd_app_server&page=ss-schedules' ),
			Admin_Menu::page_url( Admin_Menu::SCHEDULES )
		);
	}

	public function test_when_there_is_no_host_panel_then_our_own_snapshots_menu_holds_the_screens(): void {
		$this->login_as( 'administrator' );
		unregister_post_type( 'wpcd_app_server' ); // this process only

		list( $menu, $submenu ) = $this->build_admin_menu();

		$this->assertContains( 'ss-snapshots', $this->slugs( $menu ) );
		$this->assertSame( array( 'ss-snapshots', 'ss-schedules', 'ss-settings' ), $this->slugs( $submenu['ss-snapshots'] ) );
		$this->assertSame( admin_url( 'admin.php?page=ss-schedules' ), Admin_Menu::page_url( Admin_Menu::SCHEDULES ) );
	}

	public function test_when_the_user_lacks_the_capability_then_no_screen_is_listed(): void {
		$this->login_as( 'editor' );

		list( $menu, $submenu ) = $this->build_admin_menu();

		$all = $this->slugs( $menu );
		foreach ( $submenu as $items ) {
			$all = array_merge( $all, $this->slugs( $items ) );
		}
		$this->assertNotContains( 'ss-schedules', $all );
		$this->assertNotContains( 'ss-snapshots', $all );
		$this->assertNotContains( 'ss-settings', $all );
	}

	public function test_when_the_capability_filter_allows_editors_then_editors_get_the_screens(): void {
		$this->login_as( 'editor' );
		$this->add_test_filter(
			'ss_required_capability',
			static function () {
				return 'edit_others_posts';
			}
		);

		list( , $submenu ) = $this->build_admin_menu();

		$this->assertContains( 'ss-snapshots', $this->slugs( $submenu['edit.php?post_type=wpcd_app_server'] ?? array() ) );
	}
}
