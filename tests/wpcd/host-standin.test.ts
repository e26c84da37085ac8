/**
 * The stand-in host imitates WPCloudDeploy for demos and tests. On a site where the real
 * WPCD is active it must not load (two owners of `wpcd_app_server` would clash): loaded by
 * real PHP with WordPress's plugin API stubbed, it registers nothing there and refuses to be
 * activated, while elsewhere it registers as before.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-standin-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const harness = path.join(dir, 'load.php');
fs.writeFileSync(harness, `<?php
define('ABSPATH', '/tmp/');
$GLOBALS['hooks'] = array();
$GLOBALS['active'] = json_decode(getenv('SS_ACTIVE'), true);
function add_action($hook, $cb, ...$rest) { $GLOBALS['hooks'][] = $hook; }
function add_filter($hook, $cb, ...$rest) { $GLOBALS['hooks'][] = $hook; }
function get_option($name, $default = false) { return 'active_plugins' === $name ? $GLOBALS['active'] : $default; }
function get_site_option($name, $default = false) { return $default; }
function is_multisite() { return false; }
function register_activation_hook($file, $cb) { $GLOBALS['activate'] = $cb; }
function esc_html__($s, $d = null) { return $s; }
function wp_die($message, $title = '', $args = array()) { echo json_encode(array('died' => $message)); exit; }
require getenv('SS_PLUGIN');
if (getenv('SS_ACTIVATE')) { call_user_func($GLOBALS['activate']); }
echo json_encode(array('hooks' => $GLOBALS['hooks']));
`);

function load(active: string[], activate = false): { hooks?: string[]; died?: string } {
  const out = execFileSync('php', [harness], {
    encoding: 'utf8',
    env: { ...process.env, SS_ACTIVE: JSON.stringify(active), SS_PLUGIN: path.resolve('plugin-php/host-standin/host-standin.php'), SS_ACTIVATE: activate ? '1' : '' },
  });
  return JSON.parse(out) as { hooks?: string[]; died?: string };
}

describe('the stand-in host next to the real WPCloudDeploy', () => {
  test('when WPCD is active, then the stand-in registers nothing but a notice, and activating it is refused with a sentence', () => {
    const withWpcd = ['host-standin/host-standin.php', 'wp-cloud-deploy/wpcd.php', 'scheduled-snapshots/scheduled-snapshots.php'];
    expect(load(withWpcd).hooks).toEqual(['admin_notices']);
    expect(load(withWpcd, true).died).toMatch(/^The Scheduled Snapshots host stand-in is for demos and tests only: WPCloudDeploy is active on this site/);
  });

  test('when WPCD is not active, then the stand-in registers the server type and its screens, and activates', () => {
    const alone = ['host-standin/host-standin.php', 'scheduled-snapshots/scheduled-snapshots.php'];
    expect(load(alone).hooks).toEqual(expect.arrayContaining(['init', 'add_meta_boxes_wpcd_app_server', 'admin_post_ss_standin_take_snapshot']));
    expect(load(alone, true).died).toBeUndefined();
  });
});
