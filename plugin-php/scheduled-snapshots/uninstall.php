<?php
/**
 * Removes what this plugin stored in WordPress (one option, per-user screen settings and
 * queued notices). The sidecar's own tables ({prefix}ss_*) belong to the sidecar and are
 * left alone: snapshots at providers must not be forgotten by uninstalling a plugin.
 *
 * @package ScheduledSnapshots
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

delete_option( 'ss_sidecar_url' );
delete_metadata( 'user', 0, 'ss_queued_notices', '', true );
delete_metadata( 'user', 0, 'ss_snapshots_per_page', '', true );
