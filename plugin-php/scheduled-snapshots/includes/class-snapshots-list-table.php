<?php
/**
 * The Snapshots list: GET /api/v1/snapshots with filters and keyset pagination.
 *
 * Keyset pages have no numbers: "Older →" follows the API's nextCursor; "← Newer" goes
 * back through the cursors this browser came through, kept in the URL (ss_prev).
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

use WP_Error;

defined( 'ABSPATH' ) || exit;

class Snapshots_List_Table extends \WP_List_Table {

	/** Marks "the first page" in the ss_prev stack. */
	const FIRST_PAGE = '-';

	/** @var WP_Error|null */
	public $error = null;

	/** @var string|null */
	private $next_cursor = null;

	/** @var array Current filters and position. */
	private $query = array();

	/** @var Sidecar_Client */
	private $client;

	/** @var array|null id → name, when the sidecar could list servers */
	private $servers = null;

	/** @var array|null id → name */
	private $schedules = null;

	public function __construct( array $args = array() ) {
		parent::__construct(
			array_merge(
				array(
					'singular' => 'snapshot',
					'plural'   => 'snapshots',
					'ajax'     => false,
				),
				$args
			)
		);
	}

	/**
	 * Filters and position from the request, validated.
	 */
	public static function query_from_request( array $get ): array {
		$get   = wp_unslash( $get );
		$query = array(
			'serverId'   => isset( $get['serverId'] ) && is_string( $get['serverId'] ) && ctype_digit( $get['serverId'] ) ? (int) $get['serverId'] : null,
			'status'     => isset( $get['status'] ) && in_array( $get['status'], Api_Shapes::STATUSES, true ) ? $get['status'] : null,
			'origin'     => isset( $get['origin'] ) && in_array( $get['origin'], Api_Shapes::ORIGINS, true ) ? $get['origin'] : null,
			'scheduleId' => isset( $get['scheduleId'] ) ? Api_Shapes::id( $get['scheduleId'] ) : null,
			'cursor'     => isset( $get['cursor'] ) ? Api_Shapes::cursor( $get['cursor'] ) : null,
			'prev'       => array(),
		);
		if ( isset( $get['ss_prev'] ) && is_string( $get['ss_prev'] ) && '' !== $get['ss_prev'] ) {
			foreach ( explode( ',', $get['ss_prev'] ) as $cursor ) {
				if ( self::FIRST_PAGE === $cursor || null !== Api_Shapes::cursor( $cursor ) ) {
					$query['prev'][] = $cursor;
				}
			}
			// A very long trail is cut from the oldest end; "← Newer" then ends at the newest page.
			$query['prev'] = array_slice( $query['prev'], -40 );
		}
		return $query;
	}

	/**
	 * @param Sidecar_Client|null $client
	 */
	public function prepare_items( $client = null, ?array $query = null ): void {
		$this->client = $client ?: Sidecar_Client::from_config();
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- list filters
		$this->query = null === $query ? self::query_from_request( $_GET ) : $query;
		$per_page    = min( Snapshots_Screen::MAX_PER_PAGE, max( 1, (int) $this->get_items_per_page( Snapshots_Screen::PER_PAGE_OPTION, Snapshots_Screen::DEFAULT_PER_PAGE ) ) );

		$json = $this->client->get(
			'/api/v1/snapshots',
			array(
				'serverId'   => $this->query['serverId'],
				'status'     => $this->query['status'],
				'origin'     => $this->query['origin'],
				'scheduleId' => $this->query['scheduleId'],
				'limit'      => $per_page,
				'cursor'     => $this->query['cursor'],
			)
		);
		if ( is_wp_error( $json ) ) {
			$this->error = $json;
			$this->set_snapshots( array(), null );
			return;
		}
		$this->set_snapshots( Api_Shapes::items( $json ), Api_Shapes::cursor( $json['nextCursor'] ?? null ) );
	}

	/**
	 * @param array       $raw_items Snapshots as the API sent them.
	 * @param string|null $next_cursor
	 */
	public function set_snapshots( array $raw_items, ?string $next_cursor ): void {
		$items = array();
		foreach ( $raw_items as $raw ) {
			$snapshot = Api_Shapes::snapshot( $raw );
			if ( null !== $snapshot ) {
				$items[] = $snapshot;
			}
		}
		if ( ! $this->query ) {
			$this->query = self::query_from_request( array() );
		}
		$this->items           = $items;
		$this->next_cursor     = $next_cursor;
		$this->_column_headers = array( $this->get_columns(), get_hidden_columns( $this->screen ), array(), 'server' );
	}

	public function get_columns() {
		return array(
			'server'     => __( 'Server', 'scheduled-snapshots' ),
			'provider'   => __( 'Provider', 'scheduled-snapshots' ),
			'origin'     => __( 'Origin', 'scheduled-snapshots' ),
			'schedule'   => __( 'Schedule', 'scheduled-snapshots' ),
			'status'     => __( 'Status', 'scheduled-snapshots' ),
			'created'    => __( 'Created', 'scheduled-snapshots' ),
			'size'       => __( 'Size', 'scheduled-snapshots' ),
			'protection' => __( 'Protection', 'scheduled-snapshots' ),
		);
	}

	protected function get_default_primary_column_name() {
		return 'server';
	}

	protected function get_table_classes() {
		return array( 'widefat', 'fixed', 'striped', 'table-view-list', 'ss-snapshots-table' );
	}

	public function no_items() {
		if ( $this->error ) {
			esc_html_e( 'The snapshots could not be loaded.', 'scheduled-snapshots' );
		} elseif ( $this->has_filters() ) {
			esc_html_e( 'No snapshots match these filters.', 'scheduled-snapshots' );
		} else {
			esc_html_e( 'No snapshots yet. Assign a schedule to a server, or take a snapshot from a server\'s Snapshots box.', 'scheduled-snapshots' );
		}
	}

	private function has_filters(): bool {
		return null !== $this->query['serverId'] || null !== $this->query['status'] || null !== $this->query['origin'] || null !== $this->query['scheduleId'];
	}

	public function single_row( $item ) {
		printf(
			'<tr id="ss-snapshot-%1$s" class="ss-status-%2$s" data-snapshot-id="%1$s" data-status="%2$s">',
			esc_attr( $item['id'] ),
			esc_attr( sanitize_html_class( $item['status'] ) )
		);
		$this->single_row_columns( $item );
		echo '</tr>';
	}

	protected function column_server( $item ) {
		$name = '' !== $item['serverName'] ? $item['serverName'] : sprintf( /* translators: %d: server id */ __( 'Server #%d', 'scheduled-snapshots' ), $item['serverId'] );
		$out  = '<strong><a class="row-title" href="' . esc_url( Snapshots_Screen::edit_url( $item['id'] ) ) . '">' . esc_html( $name ) . '</a></strong>';
		if ( '' !== $item['serverProblem'] ) {
			$out .= '<br /><span class="ss-server-problem description">' . esc_html( $item['serverProblem'] ) . '</span>';
		}
		if ( '' !== $item['name'] ) {
			$out .= '<br /><code class="ss-snapshot-name">' . esc_html( $item['name'] ) . '</code>';
		}
		return $out;
	}

	/**
	 * Edit | Trash | Delete Record, shown on hover like any WordPress list.
	 */
	protected function handle_row_actions( $item, $column_name, $primary ) {
		if ( $column_name !== $primary ) {
			return '';
		}
		return $this->row_actions( Snapshots_Screen::snapshot_actions( $item, true ) );
	}

	protected function column_provider( $item ) {
		return esc_html( '' === $item['provider'] ? '—' : Provider_Names::of( $item['provider'] ) );
	}

	protected function column_origin( $item ) {
		return esc_html( Display::origin( $item['origin'] ) );
	}

	protected function column_schedule( $item ) {
		if ( null === $item['scheduleId'] ) {
			return '—';
		}
		$name = '' !== $item['scheduleName'] ? $item['scheduleName'] : __( '(deleted schedule)', 'scheduled-snapshots' );
		return esc_html( $name );
	}

	protected function column_status( $item ) {
		$out = '<span class="ss-status ss-status-' . esc_attr( sanitize_html_class( $item['status'] ) ) . '">' . esc_html( Display::status( $item['status'] ) ) . '</span>';
		if ( '' !== $item['lastError'] && in_array( $item['status'], array( 'failed', 'delete_failed' ), true ) ) {
			$out .= '<br /><span class="ss-last-error description">' . esc_html( $item['lastError'] ) . '</span>';
		}
		return $out;
	}

	protected function column_created( $item ) {
		if ( null === $item['createdAt'] ) {
			return '—';
		}
		return sprintf(
			'<time datetime="%1$s" title="%3$s">%2$s</time>',
			esc_attr( $item['createdAt'] ),
			esc_html( Display::time( $item['createdAt'] ) ),
			esc_attr( Display::relative( $item['createdAt'] ) )
		);
	}

	protected function column_size( $item ) {
		$size = Display::size( $item['sizeBytes'] );
		return '' === $size ? '—' : esc_html( $size );
	}

	protected function column_protection( $item ) {
		if ( '' !== $item['protection'] ) {
			return esc_html( $item['protection'] );
		}
		if ( $item['keepForever'] ) {
			return esc_html__( 'Never deleted automatically', 'scheduled-snapshots' );
		}
		if ( null !== $item['deleteNotBefore'] && Display::timestamp( $item['deleteNotBefore'] ) > time() ) {
			/* translators: %s: date */
			return esc_html( sprintf( __( 'Kept until %s', 'scheduled-snapshots' ), Display::date( $item['deleteNotBefore'] ) ) );
		}
		return '—';
	}

	protected function column_default( $item, $column_name ) {
		return '';
	}

	/**
	 * Filters: server, status, origin, schedule.
	 */
	protected function extra_tablenav( $which ) {
		if ( 'top' !== $which ) {
			return;
		}
		$this->load_filter_choices();
		echo '<div class="alignleft actions ss-filters">';

		echo '<label class="screen-reader-text" for="ss-filter-server">' . esc_html__( 'Filter by server', 'scheduled-snapshots' ) . '</label>';
		echo '<select name="serverId" id="ss-filter-server"><option value="">' . esc_html__( 'All servers', 'scheduled-snapshots' ) . '</option>';
		$servers = $this->servers ?? array();
		if ( null !== $this->query['serverId'] && ! isset( $servers[ $this->query['serverId'] ] ) ) {
			/* translators: %d: server id */
			$servers[ $this->query['serverId'] ] = sprintf( __( 'Server #%d', 'scheduled-snapshots' ), $this->query['serverId'] );
		}
		foreach ( $servers as $id => $name ) {
			printf( '<option value="%1$s"%2$s>%3$s</option>', esc_attr( (string) $id ), selected( $this->query['serverId'], $id, false ), esc_html( $name ) );
		}
		echo '</select>';

		echo '<label class="screen-reader-text" for="ss-filter-status">' . esc_html__( 'Filter by status', 'scheduled-snapshots' ) . '</label>';
		echo '<select name="status" id="ss-filter-status"><option value="">' . esc_html__( 'All statuses', 'scheduled-snapshots' ) . '</option>';
		foreach ( Display::status_labels() as $value => $label ) {
			printf( '<option value="%1$s"%2$s>%3$s</option>', esc_attr( $value ), selected( $this->query['status'], $value, false ), esc_html( $label ) );
		}
		echo '</select>';

		echo '<label class="screen-reader-text" for="ss-filter-origin">' . esc_html__( 'Filter by origin', 'scheduled-snapshots' ) . '</label>';
		echo '<select name="origin" id="ss-filter-origin"><option value="">' . esc_html__( 'All origins', 'scheduled-snapshots' ) . '</option>';
		foreach ( Display::origin_labels() as $value => $label ) {
			printf( '<option value="%1$s"%2$s>%3$s</option>', esc_attr( $value ), selected( $this->query['origin'], $value, false ), esc_html( $label ) );
		}
		echo '</select>';

		echo '<label class="screen-reader-text" for="ss-filter-schedule">' . esc_html__( 'Filter by schedule', 'scheduled-snapshots' ) . '</label>';
		echo '<select name="scheduleId" id="ss-filter-schedule"><option value="">' . esc_html__( 'All schedules', 'scheduled-snapshots' ) . '</option>';
		$schedules = $this->schedules ?? array();
		if ( null !== $this->query['scheduleId'] && ! isset( $schedules[ $this->query['scheduleId'] ] ) ) {
			$schedules[ $this->query['scheduleId'] ] = $this->query['scheduleId'];
		}
		foreach ( $schedules as $id => $name ) {
			printf( '<option value="%1$s"%2$s>%3$s</option>', esc_attr( (string) $id ), selected( (string) $this->query['scheduleId'], (string) $id, false ), esc_html( $name ) );
		}
		echo '</select>';

		submit_button( __( 'Filter', 'scheduled-snapshots' ), '', 'ss_filter', false, array( 'id' => 'ss-filter-submit' ) );
		if ( $this->has_filters() ) {
			echo ' <a class="button-link" id="ss-filter-clear" href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SNAPSHOTS ) ) . '">' . esc_html__( 'Clear filters', 'scheduled-snapshots' ) . '</a>';
		}
		echo '</div>';
	}

	private function load_filter_choices(): void {
		if ( null !== $this->servers || ! $this->client ) {
			return;
		}
		$this->servers   = array();
		$this->schedules = array();
		$servers         = $this->client->get( '/api/v1/servers' );
		if ( ! is_wp_error( $servers ) ) {
			foreach ( Api_Shapes::items( $servers ) as $raw ) {
				$server = Api_Shapes::server_summary( $raw );
				if ( null !== $server ) {
					$this->servers[ $server['id'] ] = '' !== $server['name'] ? $server['name'] : '#' . $server['id'];
				}
			}
		}
		$schedules = $this->client->get( '/api/v1/schedules' );
		if ( ! is_wp_error( $schedules ) ) {
			foreach ( Api_Shapes::items( $schedules ) as $raw ) {
				$schedule = Api_Shapes::schedule( $raw );
				if ( null !== $schedule ) {
					$this->schedules[ $schedule['id'] ] = $schedule['name'];
				}
			}
		}
	}

	/**
	 * Keyset pagination: "← Newer" and "Older →" instead of page numbers.
	 */
	protected function pagination( $which ) {
		$filters = array_filter(
			array(
				'serverId'   => $this->query['serverId'],
				'status'     => $this->query['status'],
				'origin'     => $this->query['origin'],
				'scheduleId' => $this->query['scheduleId'],
			),
			static function ( $v ) {
				return null !== $v;
			}
		);
		$filters = array_map( 'rawurlencode', array_map( 'strval', $filters ) );
		$links   = array();

		if ( null !== $this->query['cursor'] ) {
			$prev   = $this->query['prev'];
			$target = array_pop( $prev );
			$args   = $filters;
			if ( null !== $target && self::FIRST_PAGE !== $target ) {
				$args['cursor'] = rawurlencode( $target );
			}
			if ( $prev ) {
				$args['ss_prev'] = rawurlencode( implode( ',', $prev ) );
			}
			$links[] = '<a class="button ss-page-newer" href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SNAPSHOTS, $args ) ) . '">' . esc_html__( '← Newer', 'scheduled-snapshots' ) . '</a>';
		}
		if ( null !== $this->next_cursor ) {
			$prev    = $this->query['prev'];
			$prev[]  = null === $this->query['cursor'] ? self::FIRST_PAGE : $this->query['cursor'];
			$args    = $filters;
			$args['cursor']  = rawurlencode( $this->next_cursor );
			$args['ss_prev'] = rawurlencode( implode( ',', array_slice( $prev, -40 ) ) );
			$links[] = '<a class="button ss-page-older" href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SNAPSHOTS, $args ) ) . '">' . esc_html__( 'Older →', 'scheduled-snapshots' ) . '</a>';
		}
		if ( ! $links ) {
			return;
		}
		echo '<div class="tablenav-pages ss-keyset-pages ss-pages-' . esc_attr( $which ) . '">' . implode( ' ', $links ) . '</div>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built from escaped parts above
	}
}
