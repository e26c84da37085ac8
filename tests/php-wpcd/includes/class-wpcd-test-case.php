<?php
/**
 * Base for the real-WPCloudDeploy tests: the plugin suite's Test_Case (a transaction per test,
 * wp_die and redirects as exceptions, the fake sidecar, no log line from our code) plus a fake
 * DigitalOcean behind WPCD's own DigitalOcean class, and servers made with WPCD's functions.
 */

namespace ScheduledSnapshots\Tests;

abstract class Wpcd_Test_Case extends Test_Case {

	/** @var Fake_DigitalOcean */
	protected $digitalocean;

	protected function setUp(): void {
		parent::setUp();
		$this->digitalocean = new Fake_DigitalOcean();
	}

	protected function tearDown(): void {
		$this->digitalocean->remove();
		parent::tearDown();
	}

	/** A DigitalOcean server as WPCD records one: its own create_server_post(), then the metas its create flow writes. */
	protected function wpcd_server( int $droplet, string $name = 'web-1', int $author = 0 ): int {
		$id = WPCD_SERVER()->create_server_post(
			array(
				'name'    => $name,
				'user_id' => $author > 0 ? $author : get_current_user_id(),
			)
		);
		$this->assertIsInt( $id );
		foreach ( array(
			'wpcd_server_provider'             => 'digital-ocean',
			'wpcd_server_provider_instance_id' => (string) $droplet,
			'wpcd_server_region'               => 'fra1',
			'wpcd_server_name'                 => $name,
			'wpcd_server_ipv4'                 => '203.0.113.10',
			'wpcd_server_initial_app_name'     => 'wordpress-app',
			'wpcd_server_server-type'          => 'wordpress-app',
		) as $key => $value ) {
			update_post_meta( $id, $key, $value );
		}
		return $id;
	}
}
