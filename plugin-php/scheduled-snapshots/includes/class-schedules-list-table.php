<?php
/**
 * The Schedules list: a real WordPress list table filled from GET /api/v1/schedules.
 *
 * Loaded only on our screens, after wp-admin/includes/class-wp-list-table.php.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

use WP_Error;

defined( 'ABSPATH' ) || exit;

class Schedules_List_Table extends \WP_List_Table {

	/** @var WP_Error|null */
	public $error = null;

	public function __construct( array $args = array() ) {
		parent::__construct(
			array_merge(
				array(
					'singular' => 'schedule',
					'plural'   => 'schedules',
					'ajax'     => false,
				),
				$args
			)
		);
	}

	/**
	 * @param Sidecar_Client|null $client
	 */
	public function prepare_items( $client = null ): void {
		$client = $client ?: Sidecar_Client::from_config();
		$json   = $client->get( '/api/v1/schedules' );
		if ( is_wp_error( $json ) ) {
			$this->error = $json;
			$this->set_schedules( array() );
			return;
		}
		$this->set_schedules( Api_Shapes::items( $json ) );
	}

	/**
	 * @param array $raw_items Schedules as the API sent them.
	 */
	public function set_schedules( array $raw_items ): void {
		$items = array();
		foreach ( $raw_items as $raw ) {
			$schedule = Api_Shapes::schedule( $raw );
			if ( null !== $schedule ) {
				$items[] = $schedule;
			}
		}
		$this->items           = $items;
		$this->_column_headers = array( $this->get_columns(), get_hidden_columns( $this->screen ), array(), 'name' );
		$this->set_pagination_args(
			array(
				'total_items' => count( $items ),
				'per_page'    => max( 1, count( $items ) ),
			)
		);
	}

	public function get_columns() {
		return array(
			'name'      => __( 'Name', 'scheduled-snapshots' ),
			'frequency' => __( 'Frequency', 'scheduled-snapshots' ),
			'timezone'  => __( 'Timezone', 'scheduled-snapshots' ),
			'retention' => __( 'Retention', 'scheduled-snapshots' ),
			'servers'   => __( 'Servers', 'scheduled-snapshots' ),
			'next_run'  => __( 'Next run', 'scheduled-snapshots' ),
		);
	}

	protected function get_default_primary_column_name() {
		return 'name';
	}

	public function no_items() {
		if ( $this->error ) {
			esc_html_e( 'The schedules could not be loaded.', 'scheduled-snapshots' );
			return;
		}
		esc_html_e( 'No schedules yet. Click Add New to create the first one.', 'scheduled-snapshots' );
	}

	protected function get_table_classes() {
		return array( 'widefat', 'fixed', 'striped', 'table-view-list', 'ss-schedules-table' );
	}

	public function single_row( $item ) {
		echo '<tr id="ss-schedule-' . esc_attr( $item['id'] ) . '" data-schedule-id="' . esc_attr( $item['id'] ) . '">';
		$this->single_row_columns( $item );
		echo '</tr>';
	}

	protected function column_name( $item ) {
		$edit = Admin_Menu::page_url( Admin_Menu::SCHEDULES, array( 'view' => 'edit', 'schedule' => rawurlencode( $item['id'] ) ) );
		$name = '' === $item['name'] ? __( '(no name)', 'scheduled-snapshots' ) : $item['name'];
		$out  = '<strong><a class="row-title ss-schedule-name" href="' . esc_url( $edit ) . '">' . esc_html( $name ) . '</a></strong>';
		if ( ! $item['enabled'] ) {
			$out .= ' — <span class="post-state">' . esc_html__( 'Disabled', 'scheduled-snapshots' ) . '</span>';
		}
		return $out;
	}

	protected function handle_row_actions( $item, $column_name, $primary ) {
		if ( $column_name !== $primary ) {
			return '';
		}
		$actions = array(
			'edit'   => sprintf(
				'<a href="%1$s" aria-label="%2$s">%3$s</a>',
				esc_url( Admin_Menu::page_url( Admin_Menu::SCHEDULES, array( 'view' => 'edit', 'schedule' => rawurlencode( $item['id'] ) ) ) ),
				/* translators: %s: schedule name */
				esc_attr( sprintf( __( 'Edit “%s”', 'scheduled-snapshots' ), $item['name'] ) ),
				esc_html__( 'Edit', 'scheduled-snapshots' )
			),
			'delete' => sprintf(
				'<a href="%1$s" class="submitdelete" aria-label="%2$s">%3$s</a>',
				esc_url( Admin_Menu::page_url( Admin_Menu::SCHEDULES, array( 'view' => 'delete', 'schedule' => rawurlencode( $item['id'] ) ) ) ),
				/* translators: %s: schedule name */
				esc_attr( sprintf( __( 'Delete “%s”', 'scheduled-snapshots' ), $item['name'] ) ),
				esc_html__( 'Delete', 'scheduled-snapshots' )
			),
			'snapshots' => sprintf(
				'<a href="%1$s">%2$s</a>',
				esc_url( Admin_Menu::page_url( Admin_Menu::SNAPSHOTS, array( 'scheduleId' => rawurlencode( $item['id'] ) ) ) ),
				esc_html__( 'Snapshots', 'scheduled-snapshots' )
			),
		);
		return $this->row_actions( $actions );
	}

	protected function column_frequency( $item ) {
		return esc_html( '' !== $item['frequency'] ? $item['frequency'] : Display::frequency( $item['intervalMinutes'], $item['cron'] ) );
	}

	protected function column_timezone( $item ) {
		return esc_html( $item['timezone'] );
	}

	protected function column_retention( $item ) {
		$words = '' !== $item['retentionSummary'] ? $item['retentionSummary'] : Display::retention( $item['retention'] );
		return esc_html( $words );
	}

	protected function column_servers( $item ) {
		/* translators: %d: number of servers */
		return esc_html( sprintf( _n( '%d server', '%d servers', $item['serverCount'], 'scheduled-snapshots' ), $item['serverCount'] ) );
	}

	protected function column_next_run( $item ) {
		if ( ! $item['enabled'] ) {
			return esc_html__( 'Disabled', 'scheduled-snapshots' );
		}
		if ( null === $item['nextRunAt'] ) {
			return $item['serverCount'] > 0 ? '—' : esc_html__( 'No servers use it', 'scheduled-snapshots' );
		}
		return sprintf(
			'<time datetime="%1$s">%2$s</time><br /><span class="description">%3$s</span>',
			esc_attr( $item['nextRunAt'] ),
			esc_html( Display::time( $item['nextRunAt'] ) ),
			esc_html( Display::relative( $item['nextRunAt'] ) )
		);
	}

	protected function column_default( $item, $column_name ) {
		return '';
	}

	protected function display_tablenav( $which ) {
		// One short list: no bulk actions, no pagination.
	}
}
