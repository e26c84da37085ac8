<?php
namespace ScheduledSnapshots\Tests;

/**
 * The plugin's own words (menus, Screen Options, error notices) come from the .mo that
 * `npm run i18n` writes next to the views' JSON catalogue.
 */
final class TranslationsTest extends Test_Case {

	public function test_the_german_catalogue_loads_and_translates_the_menus_and_errors(): void {
		$file = SS_TESTS_ROOT . '/plugin-php/scheduled-snapshots/languages/scheduled-snapshots-de_DE.mo';
		$this->assertTrue( load_textdomain( 'scheduled-snapshots-test', $file ) );
		try {
			$this->assertSame( 'Zeitpläne', __( 'Schedules', 'scheduled-snapshots-test' ) );
			$this->assertSame( 'Snapshots pro Seite', __( 'Snapshots per page', 'scheduled-snapshots-test' ) );
			$this->assertStringContainsString( 'antwortet nicht', __( 'The snapshot service at %1$s is not answering: start it with `npm start` in the Scheduled Snapshots folder (with its SS_* settings), or correct its address under Settings. Details: %2$s', 'scheduled-snapshots-test' ) );
		} finally {
			unload_textdomain( 'scheduled-snapshots-test' );
		}
	}
}
