<?php
/**
 * Removes what this plugin stored in WordPress (its options, per-user screen settings,
 * queued notices, backup-tab snapshots still waiting for the sidecar). The sidecar's own
 * tables ({prefix}ss_*) belong to the sidecar and are left alone: snapshots at providers
 * must not be forgotten by uninstalling a plugin.
 *
 * @package ScheduledSnapshots
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

delete_option( 'ss_sidecar_url' );
delete_site_option( 'ss_sidecar_url' );
delete_option( 'ss_panel_backlog' );
wp_clear_scheduled_hook( 'ss_panel_backlog_retry' );
delete_metadata( 'user', 0, 'ss_queued_notices', '', true );
delete_metadata( 'user', 0, 'ss_snapshots_per_page', '', true );
