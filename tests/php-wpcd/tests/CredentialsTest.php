<?php
namespace ScheduledSnapshots\Tests;

/**
 * The provider keys an admin entered in WPCloudDeploy, encrypted by WPCD itself, reach the
 * provider through the real sidecar — with WPCD's option key, or with wp-config's
 * WPCD_ENCRYPTION_KEY given to the sidecar as SS_WPCD_ENCRYPTION_KEY — and no answer shows one.
 */
final class CredentialsTest extends Wpcd_Test_Case {

	/** @var Real_Sidecar|null */
	private $real = null;

	protected function tearDown(): void {
		if ( $this->real ) {
			$this->real->stop();
		}
		parent::tearDown();
	}

	/** @return array<string,array> slug → item of GET /api/v1/providers/sources?check=1 */
	private function sources( array $env ): array {
		$this->real = new Real_Sidecar( $env );
		$answer     = $this->real->get( '/api/v1/providers/sources', array( 'check' => '1' ) );
		$this->assertIsArray( $answer, is_wp_error( $answer ) ? $answer->get_error_message() : '' );
		$this->assertStringNotContainsString( 'dop_v1_', (string) wp_json_encode( $answer ), 'never a key' );
		$items = array();
		foreach ( $answer['items'] as $item ) {
			$items[ $item['slug'] ] = $item;
		}
		return array( 'wpcd' => $answer['wpcd'], 'items' => $items );
	}

	public function test_with_wpcds_option_key_the_sidecar_decrypts_what_wpcd_encrypted_and_digitalocean_accepts_it(): void {
		$sources = $this->sources( array() );

		$this->assertSame( array( 'settingsFound' => true, 'keySource' => 'wpcd_encryption_key_v2', 'problem' => null ), $sources['wpcd'] );
		$this->assertSame( 'wpcd', $sources['items']['digital-ocean']['source'] );
		$this->assertSame( array( 'ok' => true, 'message' => 'DigitalOcean accepted the credentials.' ), $sources['items']['digital-ocean']['check'] );
		$this->assertSame( 'missing', $sources['items']['digital-ocean-alternate']['source'], 'that one was encrypted with the wp-config key' );
	}

	public function test_with_wp_configs_wpcd_encryption_key_the_sidecar_decrypts_the_keys_wpcd_encrypted_with_it(): void {
		$sources = $this->sources( array( 'SS_WPCD_ENCRYPTION_KEY' => 'phpunit-wp-config-wpcd-key-0002' ) );

		$this->assertSame( 'SS_WPCD_ENCRYPTION_KEY', $sources['wpcd']['keySource'] );
		$this->assertSame( 'wpcd', $sources['items']['digital-ocean-alternate']['source'] );
		$this->assertSame( array( 'ok' => true, 'message' => 'DigitalOcean accepted the credentials.' ), $sources['items']['digital-ocean-alternate']['check'] );
	}
}
