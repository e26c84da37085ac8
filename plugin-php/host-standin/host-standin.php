<?php
/**
 * Plugin Name:       Scheduled Snapshots – Host Stand-in (for demo and tests only)
 * Description:       Stands in for a cloud panel such as WPCloudDeploy: registers the server post type (wpcd_app_server) with its meta and a backup-tab button that fires the host's snapshot hook. Do not activate next to the real panel.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * License:           GPL-2.0-or-later
 * Text Domain:       ss-host-standin
 *
 * Everything here imitates the host's contract (docs/architecture.md, "The host panel"): post type
 * `wpcd_app_server`, status `private`, meta keys wpcd_server_*, and
 * do_action( 'wpcd_server_wordpress-app_take_a_snapshot_action_successful', $server_id, $action, $success, $result ).
 */

namespace ScheduledSnapshots\HostStandin;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const POST_TYPE = 'wpcd_app_server';
const HOST_HOOK = 'wpcd_server_wordpress-app_take_a_snapshot_action_successful';

/** Meta keys of the host contract, with the label shown in the stand-in's box. */
function meta_fields(): array {
	return array(
		'wpcd_server_provider'             => __( 'Provider slug', 'ss-host-standin' ),
		'wpcd_server_provider_instance_id' => __( 'Instance id at the provider', 'ss-host-standin' ),
		'wpcd_server_region'               => __( 'Region', 'ss-host-standin' ),
		'wpcd_server_name'                 => __( 'Server name', 'ss-host-standin' ),
		'wpcd_server_ipv4'                 => __( 'IPv4 address', 'ss-host-standin' ),
	);
}

function register_post_type(): void {
	\register_post_type(
		POST_TYPE,
		array(
			'labels'        => array(
				'name'               => __( 'Servers', 'ss-host-standin' ),
				'singular_name'      => __( 'Server', 'ss-host-standin' ),
				'menu_name'          => __( 'Servers (stand-in)', 'ss-host-standin' ),
				'all_items'          => __( 'All Servers', 'ss-host-standin' ),
				'add_new'            => __( 'Add New', 'ss-host-standin' ),
				'add_new_item'       => __( 'Add New Server', 'ss-host-standin' ),
				'edit_item'          => __( 'Edit Server', 'ss-host-standin' ),
				'search_items'       => __( 'Search Servers', 'ss-host-standin' ),
				'not_found'          => __( 'No servers found.', 'ss-host-standin' ),
				'not_found_in_trash' => __( 'No servers found in Trash.', 'ss-host-standin' ),
			),
			'public'        => false,
			'show_ui'       => true,
			'show_in_menu'  => true,
			'show_in_rest'  => false, // classic edit screen with the Update button, as in the host
			'menu_position' => 70,
			'menu_icon'     => 'dashicons-cloud',
			'supports'      => array( 'title' ),
			'map_meta_cap'  => true,
			'rewrite'       => false,
			'query_var'     => false,
		)
	);
	foreach ( array_keys( meta_fields() ) as $key ) {
		register_post_meta(
			POST_TYPE,
			$key,
			array(
				'type'              => 'string',
				'single'            => true,
				'sanitize_callback' => 'sanitize_text_field',
				'show_in_rest'      => false,
			)
		);
	}
}

/** Servers in the host are always private posts. */
function force_private_status( array $data ): array {
	if ( POST_TYPE === $data['post_type'] && in_array( $data['post_status'], array( 'publish', 'future', 'pending' ), true ) ) {
		$data['post_status'] = 'private';
	}
	return $data;
}

function add_meta_boxes(): void {
	add_meta_box( 'ss-standin-server', __( 'Server (host stand-in)', 'ss-host-standin' ), __NAMESPACE__ . '\render_server_box', POST_TYPE, 'normal', 'high' );
	add_meta_box( 'ss-standin-backup', __( 'Backup', 'ss-host-standin' ), __NAMESPACE__ . '\render_backup_box', POST_TYPE, 'side', 'default' );
}

function render_server_box( \WP_Post $post ): void {
	wp_nonce_field( 'ss_standin_save_server_' . $post->ID, 'ss_standin_server_nonce' );
	echo '<table class="form-table" role="presentation"><tbody>';
	foreach ( meta_fields() as $key => $label ) {
		$value = (string) get_post_meta( $post->ID, $key, true );
		if ( '' === $value && 'wpcd_server_provider' === $key && 'auto-draft' === $post->post_status ) {
			$value = 'sandbox';
		}
		printf(
			'<tr><th scope="row"><label for="%1$s">%2$s</label></th><td><input type="text" class="regular-text code" id="%1$s" name="%1$s" value="%3$s" /><p class="description"><code>%4$s</code></p></td></tr>',
			esc_attr( 'ss-standin-' . $key ),
			esc_html( $label ),
			esc_attr( $value ),
			esc_html( $key )
		);
	}
	echo '</tbody></table>';
}

function save_server_meta( int $post_id, \WP_Post $post ): void {
	if ( ( defined( 'DOING_AUTOSAVE' ) && DOING_AUTOSAVE ) || wp_is_post_revision( $post_id ) || wp_is_post_autosave( $post_id ) ) {
		return;
	}
	if ( ! isset( $_POST['ss_standin_server_nonce'] ) || ! wp_verify_nonce( sanitize_key( wp_unslash( $_POST['ss_standin_server_nonce'] ) ), 'ss_standin_save_server_' . $post_id ) ) {
		return;
	}
	if ( ! current_user_can( 'edit_post', $post_id ) ) {
		return;
	}
	foreach ( array_keys( meta_fields() ) as $key ) {
		$field = 'ss-standin-' . $key;
		if ( isset( $_POST[ $field ] ) ) {
			update_post_meta( $post_id, $key, sanitize_text_field( wp_unslash( $_POST[ $field ] ) ) );
		}
	}
}

function render_backup_box( \WP_Post $post ): void {
	if ( 'auto-draft' === $post->post_status ) {
		echo '<p>' . esc_html__( 'Save the server first.', 'ss-host-standin' ) . '</p>';
		return;
	}
	echo '<p>' . esc_html__( 'Imitates the host panel\'s backup tab: takes a snapshot, then fires the host\'s "snapshot taken" hook.', 'ss-host-standin' ) . '</p>';
	// The button submits a separate form printed after the post form (forms cannot nest).
	printf(
		'<p><button type="submit" class="button" id="ss-standin-take-snapshot" form="ss-standin-backup-form">%s</button></p>',
		esc_html__( 'Take snapshot (host backup tab)', 'ss-host-standin' )
	);
}

function print_backup_form(): void {
	$screen = get_current_screen();
	if ( ! $screen || 'post' !== $screen->base || POST_TYPE !== $screen->post_type ) {
		return;
	}
	$post = get_post();
	if ( ! $post || 'auto-draft' === $post->post_status ) {
		return;
	}
	echo '<form id="ss-standin-backup-form" method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
	echo '<input type="hidden" name="action" value="ss_standin_take_snapshot" />';
	echo '<input type="hidden" name="server_id" value="' . esc_attr( (string) $post->ID ) . '" />';
	wp_nonce_field( 'ss_standin_take_snapshot_' . $post->ID );
	echo '</form>';
}

/**
 * The host's backup-tab action: ask the cloud (here: the sidecar's sandbox) for a snapshot,
 * then tell listeners through the host's hook.
 */
function handle_take_snapshot(): void {
	$server_id = isset( $_POST['server_id'] ) ? absint( $_POST['server_id'] ) : 0;
	if ( ! $server_id || ! current_user_can( 'edit_post', $server_id ) ) {
		wp_die( esc_html__( 'Sorry, you are not allowed to take snapshots of this server.', 'ss-host-standin' ), 403 );
	}
	check_admin_referer( 'ss_standin_take_snapshot_' . $server_id );
	$post = get_post( $server_id );
	if ( ! $post || POST_TYPE !== $post->post_type ) {
		wp_die( esc_html__( 'That server does not exist.', 'ss-host-standin' ), 404 );
	}

	$snapshot_id = take_provider_snapshot( $server_id );
	/** The host's own hook (contract). */
	do_action( HOST_HOOK, $server_id, 'take-snapshot', true, array( 'snapshot-id' => $snapshot_id ) );

	wp_safe_redirect(
		add_query_arg(
			array(
				'post'                => $server_id,
				'action'              => 'edit',
				'ss_standin_snapshot' => rawurlencode( $snapshot_id ),
			),
			admin_url( 'post.php' )
		)
	);
	exit;
}

/**
 * For the sandbox provider, ask the sidecar's sandbox cloud to make the snapshot (so the
 * recorded id exists there); otherwise, or when that fails, invent a sandbox-style id.
 */
function take_provider_snapshot( int $server_id ): string {
	if ( class_exists( '\ScheduledSnapshots\Sidecar_Client' ) ) {
		$client = \ScheduledSnapshots\Sidecar_Client::from_config();
		$answer = $client->post( '/api/v1/sandbox/snapshots', array( 'serverId' => $server_id ) );
		if ( ! is_wp_error( $answer ) && isset( $answer['providerSnapshotId'] ) && is_scalar( $answer['providerSnapshotId'] ) ) {
			$id = (string) $answer['providerSnapshotId'];
			if ( preg_match( '/^[A-Za-z0-9._:-]{1,128}$/', $id ) ) {
				return $id;
			}
		}
	}
	return 'sbx-' . strtolower( wp_generate_password( 12, false ) );
}

function backup_notice(): void {
	$screen = get_current_screen();
	if ( ! $screen || POST_TYPE !== $screen->post_type || empty( $_GET['ss_standin_snapshot'] ) ) {
		return;
	}
	$snapshot_id = sanitize_text_field( wp_unslash( $_GET['ss_standin_snapshot'] ) );
	printf(
		'<div class="notice notice-info is-dismissible" id="ss-standin-notice"><p>%s</p></div>',
		esc_html(
			sprintf(
				/* translators: %s: provider snapshot id */
				__( 'Host stand-in: the backup tab took snapshot %s and fired the host hook.', 'ss-host-standin' ),
				$snapshot_id
			)
		)
	);
}

function list_columns( array $columns ): array {
	$date = $columns['date'] ?? null;
	unset( $columns['date'] );
	$columns['ss_standin_provider'] = __( 'Provider', 'ss-host-standin' );
	$columns['ss_standin_instance'] = __( 'Instance', 'ss-host-standin' );
	$columns['ss_standin_region']   = __( 'Region', 'ss-host-standin' );
	$columns['ss_standin_ipv4']     = __( 'IPv4', 'ss-host-standin' );
	if ( null !== $date ) {
		$columns['date'] = $date;
	}
	return $columns;
}

function list_column( string $column, int $post_id ): void {
	$keys = array(
		'ss_standin_provider' => 'wpcd_server_provider',
		'ss_standin_instance' => 'wpcd_server_provider_instance_id',
		'ss_standin_region'   => 'wpcd_server_region',
		'ss_standin_ipv4'     => 'wpcd_server_ipv4',
	);
	if ( isset( $keys[ $column ] ) ) {
		echo esc_html( (string) get_post_meta( $post_id, $keys[ $column ], true ) );
	}
}

/**
 * Whether the real WPCloudDeploy is active here. Checked from the active-plugins lists, not
 * from WPCD's constants: plugins load in alphabetical order, so this file runs before WPCD's.
 */
function wpcd_is_active(): bool {
	if ( defined( 'WPCD_VERSION' ) || function_exists( 'WPCD' ) ) {
		return true;
	}
	$active = (array) get_option( 'active_plugins', array() );
	if ( is_multisite() ) {
		$active = array_merge( $active, array_keys( (array) get_site_option( 'active_sitewide_plugins', array() ) ) );
	}
	foreach ( $active as $plugin ) {
		if ( 'wpcd.php' === basename( (string) $plugin ) ) {
			return true;
		}
	}
	return false;
}

function refuse_activation(): void {
	if ( wpcd_is_active() ) {
		wp_die(
			esc_html__( 'The Scheduled Snapshots host stand-in is for demos and tests only: WPCloudDeploy is active on this site, and the stand-in would register a second server type next to it. It was not activated.', 'ss-host-standin' ),
			esc_html__( 'Host stand-in not activated', 'ss-host-standin' ),
			array( 'back_link' => true )
		);
	}
}

function refused_notice(): void {
	if ( current_user_can( 'activate_plugins' ) ) {
		printf(
			'<div class="notice notice-warning" id="ss-standin-refused"><p>%s</p></div>',
			esc_html__( 'The Scheduled Snapshots host stand-in does nothing on this site because WPCloudDeploy is active; deactivate the stand-in.', 'ss-host-standin' )
		);
	}
}

register_activation_hook( __FILE__, __NAMESPACE__ . '\refuse_activation' );
// Next to the real panel the stand-in registers nothing: two owners of wpcd_app_server would clash.
if ( wpcd_is_active() ) {
	add_action( 'admin_notices', __NAMESPACE__ . '\refused_notice' );
	return;
}

add_action( 'init', __NAMESPACE__ . '\register_post_type' );
add_filter( 'wp_insert_post_data', __NAMESPACE__ . '\force_private_status' );
add_action( 'add_meta_boxes_' . POST_TYPE, __NAMESPACE__ . '\add_meta_boxes' );
add_action( 'save_post_' . POST_TYPE, __NAMESPACE__ . '\save_server_meta', 10, 2 );
add_action( 'admin_footer', __NAMESPACE__ . '\print_backup_form' );
add_action( 'admin_post_ss_standin_take_snapshot', __NAMESPACE__ . '\handle_take_snapshot' );
add_action( 'admin_notices', __NAMESPACE__ . '\backup_notice' );
add_filter( 'manage_' . POST_TYPE . '_posts_columns', __NAMESPACE__ . '\list_columns' );
add_action( 'manage_' . POST_TYPE . '_posts_custom_column', __NAMESPACE__ . '\list_column', 10, 2 );
