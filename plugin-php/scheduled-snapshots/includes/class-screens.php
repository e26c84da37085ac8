<?php
/**
 * Every screen of ours is drawn by the sidecar from its views: PHP checks the capability,
 * gathers the render context (locale, site timezone and formats, Screen Options, the nonces
 * the screen's forms need, its URLs and query arguments, the last action's notice), makes
 * ONE signed request and prints the answer. When the sidecar is down, slow or answers
 * nonsense, the screen shows a WordPress error notice naming the problem instead.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Screens {

	const PER_PAGE_OPTION  = 'ss_snapshots_per_page';
	const DEFAULT_PER_PAGE = 20;
	const MAX_PER_PAGE     = 200;

	/** Nonce actions each screen's forms and links use (bound to screen and action). */
	const NONCES = array(
		'schedules'       => array(),
		'schedule-form'   => array( 'ss_save_schedule', 'ss_schedule_preview' ),
		'schedule-delete' => array( 'ss_delete_schedule' ),
		'snapshots'       => array( 'ss_trash_snapshot', 'ss_delete_snapshot_record', 'ss_bulk_snapshots' ),
		'snapshot'        => array( 'ss_update_snapshot', 'ss_trash_snapshot', 'ss_delete_snapshot_record' ),
		'server-box'      => array( 'ss_server_schedules' ),
		'settings'        => array( 'ss_save_settings', 'ss_test_alerts' ),
	);

	/** Columns WordPress lists in Screen Options (labels are the plugin's own, translated in PHP). */
	public static function columns( string $screen ): array {
		if ( 'snapshots' === $screen ) {
			return array( 'cb' => '<input type="checkbox" />', 'server' => __( 'Server', 'scheduled-snapshots' ), 'provider' => __( 'Provider', 'scheduled-snapshots' ), 'origin' => __( 'Origin', 'scheduled-snapshots' ), 'schedule' => __( 'Schedule', 'scheduled-snapshots' ), 'status' => __( 'Status', 'scheduled-snapshots' ), 'created' => __( 'Created', 'scheduled-snapshots' ), 'size' => __( 'Size', 'scheduled-snapshots' ), 'protection' => __( 'Protection', 'scheduled-snapshots' ) );
		}
		return array( 'name' => __( 'Name', 'scheduled-snapshots' ), 'frequency' => __( 'Frequency', 'scheduled-snapshots' ), 'timezone' => __( 'Timezone', 'scheduled-snapshots' ), 'retention' => __( 'Retention', 'scheduled-snapshots' ), 'servers' => __( 'Servers', 'scheduled-snapshots' ), 'next_run' => __( 'Next run', 'scheduled-snapshots' ) );
	}

	/** load-{hook} of the Snapshots page: per-page and column toggles, WordPress's own. */
	public static function load_snapshots(): void {
		self::enqueue_on_load();
		if ( 'edit' === self::arg( 'view' ) ) {
			return;
		}
		add_screen_option(
			'per_page',
			array(
				'label'   => __( 'Snapshots per page', 'scheduled-snapshots' ),
				'default' => self::DEFAULT_PER_PAGE,
				'option'  => self::PER_PAGE_OPTION,
			)
		);
		$screen = get_current_screen();
		if ( $screen ) {
			add_filter( 'manage_' . $screen->id . '_columns', static function () { return self::columns( 'snapshots' ); } );
		}
	}

	public static function load_schedules(): void {
		self::enqueue_on_load();
		$screen = get_current_screen();
		if ( $screen && '' === self::arg( 'view' ) ) {
			add_filter( 'manage_' . $screen->id . '_columns', static function () { return self::columns( 'schedules' ); } );
		}
	}

	public static function load_settings(): void {
		self::enqueue_on_load();
	}

	/** set-screen-option: keep a sane per-page number. */
	public static function save_per_page( $status, string $option, $value ) {
		return max( 1, min( self::MAX_PER_PAGE, (int) $value ) );
	}

	public static function render_schedules(): void {
		$view = self::arg( 'view' );
		$map  = array( 'new' => 'schedule-form', 'edit' => 'schedule-form', 'delete' => 'schedule-delete' );
		self::page( $map[ $view ] ?? 'schedules' );
	}

	public static function render_snapshots(): void {
		self::page( 'edit' === self::arg( 'view' ) ? 'snapshot' : 'snapshots' );
	}

	public static function render_settings(): void {
		$problem = Sidecar_Client::from_config()->secret_problem();
		$problem ? self::page_error( $problem, true ) : self::page( 'settings' );
	}

	/** The metabox on the host's server screen: one request, printed in the box. */
	public static function render_server_box( \WP_Post $post ): void {
		if ( 'auto-draft' === $post->post_status ) {
			echo '<p>' . esc_html__( 'Save the server first; then choose its snapshot schedules here.', 'scheduled-snapshots' ) . '</p>';
			return;
		}
		$html = Sidecar_Client::from_config()->render( 'server-box', self::context( 'server-box', array( 'serverId' => (int) $post->ID ) ) );
		if ( is_wp_error( $html ) ) {
			// No checkboxes and no "present" marker: Update must not clear this server's schedules.
			Notices::print_inline_error( $html );
			return;
		}
		echo $html; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- rendered and escaped by the sidecar's views
	}

	/** wp_dashboard_setup: the health widget (one signed render, like every screen). */
	public static function add_dashboard_widget(): void {
		if ( current_user_can( Config::required_capability() ) ) {
			wp_add_dashboard_widget( 'ss_health', __( 'Snapshots', 'scheduled-snapshots' ), static function () { self::fragment( 'dashboard', true ); } );
		}
	}

	/** admin_notices on the host's server list: the critical notice, silent when the sidecar is down. */
	public static function host_list_notice(): void {
		$wp = get_current_screen();
		if ( $wp && 'edit-' . Config::host_post_type() === $wp->id && current_user_can( Config::required_capability() ) ) {
			self::fragment( 'notice', false );
		}
	}

	private static function fragment( string $screen, bool $errors ): void {
		$html = Sidecar_Client::from_config()->render( $screen, self::context( $screen ) );
		if ( ! is_wp_error( $html ) ) {
			echo $html; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- rendered and escaped by the sidecar's views
		} elseif ( $errors ) {
			Notices::print_inline_error( $html );
		}
	}

	private static function page( string $screen ): void {
		$listing = in_array( $screen, array( 'snapshots', 'snapshot' ), true );
		if ( ! current_user_can( $listing ? Config::snapshots_capability() : Config::required_capability() ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage snapshots.', 'scheduled-snapshots' ), 403 );
		}
		$extra = array();
		if ( $listing && ! current_user_can( Config::required_capability() ) ) {
			// A server manager sees only the servers WPCD lets them edit.
			if ( 'snapshot' === $screen ) {
				Actions::guard_snapshot( (int) self::arg( 'snapshot' ) );
			} else {
				$extra['servers'] = self::allowed_servers();
			}
		}
		if ( 'schedule-form' === $screen ) {
			$extra['form'] = Notices::take_form_state( 'edit' === self::arg( 'view' ) ? self::arg( 'schedule' ) : 'new' );
		}
		if ( 'settings' === $screen ) {
			$extra['settings'] = array( 'sidecarUrl' => Config::sidecar_url(), 'locked' => Config::sidecar_url_is_locked(), 'defaultUrl' => Config::DEFAULT_SIDECAR_URL );
		}
		$html = Sidecar_Client::from_config()->render( $screen, self::context( $screen, $extra ) );
		if ( is_wp_error( $html ) ) {
			self::page_error( $html, 'settings' === $screen );
			return;
		}
		echo $html; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- rendered and escaped by the sidecar's views
	}

	/** The sidecar could not draw the screen: its title, the problem, and (Settings) the address field. */
	private static function page_error( \WP_Error $error, bool $with_address ): void {
		echo '<div class="wrap ss-wrap"><h1>' . esc_html( get_admin_page_title() ) . '</h1>';
		Notices::render();
		Notices::print_inline_error( $error );
		if ( $with_address && ! Config::sidecar_url_is_locked() ) {
			echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" id="ss-settings-form"><input type="hidden" name="action" value="ss_save_settings" />';
			wp_nonce_field( 'ss_save_settings' );
			printf(
				'<p><label for="ss-sidecar-url">%1$s</label> <input type="url" class="regular-text code" id="ss-sidecar-url" name="ss_sidecar_url" value="%2$s" /></p>',
				esc_html__( 'Snapshot service address', 'scheduled-snapshots' ),
				esc_attr( Config::sidecar_url() )
			);
			submit_button( __( 'Save Changes', 'scheduled-snapshots' ), 'primary', 'submit', true, array( 'id' => 'ss-settings-submit' ) );
			echo '</form>';
		}
		echo '</div>';
	}

	/** The render context of one screen. */
	public static function context( string $screen, array $extra = array() ): array {
		$nonces = array();
		foreach ( self::NONCES[ $screen ] ?? array() as $action ) {
			$nonces[ $action ] = wp_create_nonce( $action );
		}
		$user   = wp_get_current_user();
		$hidden = array();
		$wp     = function_exists( 'get_current_screen' ) ? get_current_screen() : null;
		if ( $wp && in_array( $screen, array( 'snapshots', 'schedules' ), true ) ) {
			$hidden = array_values( array_filter( (array) get_hidden_columns( $wp ), 'is_string' ) );
		}
		$per_page = (int) get_user_option( self::PER_PAGE_OPTION );
		$args     = array();
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- what to display only
		foreach ( wp_unslash( $_GET ) as $key => $value ) {
			if ( is_string( $key ) && is_string( $value ) && strlen( $key ) <= 40 ) {
				$args[ $key ] = substr( sanitize_text_field( $value ), 0, 400 );
			}
		}
		$context = array(
			'locale'       => get_user_locale(),
			'timezone'     => wp_timezone_string(),
			'timezoneName' => wp_timezone_string(),
			'dateFormat'   => (string) get_option( 'date_format', 'F j, Y' ),
			'timeFormat'   => (string) get_option( 'time_format', 'g:i a' ),
			'perPage'      => $per_page > 0 ? min( self::MAX_PER_PAGE, $per_page ) : self::DEFAULT_PER_PAGE,
			'hidden'       => $hidden,
			'nonces'       => (object) $nonces,
			'args'         => (object) $args,
			'urls'         => array(
				'schedules' => Admin_Menu::page_url( Admin_Menu::SCHEDULES ),
				'snapshots' => Admin_Menu::page_url( Admin_Menu::SNAPSHOTS ),
				'settings'  => Admin_Menu::page_url( Admin_Menu::SETTINGS ),
				'adminPost' => admin_url( 'admin-post.php' ),
				'ajax'      => admin_url( 'admin-ajax.php' ),
			),
			'user'         => array( 'id' => (int) $user->ID, 'name' => (string) $user->display_name ),
			'notice'       => Notices::take_from_request(),
		);
		return array_merge( $context, array_filter( $extra, static function ( $v ) { return null !== $v; } ) );
	}

	/** Ids of the host's servers the current user may manage (at most 1,000). @return int[] */
	public static function allowed_servers(): array {
		$ids = get_posts( array( 'post_type' => Config::host_post_type(), 'post_status' => 'any', 'fields' => 'ids', 'posts_per_page' => 1000, 'no_found_rows' => true ) );
		return array_values( array_filter( array_map( 'intval', $ids ), array( Config::class, 'can_manage_server' ) ) );
	}

	/** A query argument, sanitised, or ''. */
	public static function arg( string $key ): string {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- selects what to display
		return isset( $_GET[ $key ] ) && is_string( $_GET[ $key ] ) ? sanitize_text_field( wp_unslash( $_GET[ $key ] ) ) : '';
	}

	private static function enqueue_on_load(): void {
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
	}
}
