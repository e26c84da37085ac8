<?php
/**
 * Snapshots screen: the list (default) and one snapshot's edit view (view=edit&snapshot=ID):
 * delete, "Never delete automatically", "Do not delete before", note, and its history.
 *
 * @package ScheduledSnapshots
 */

namespace ScheduledSnapshots;

defined( 'ABSPATH' ) || exit;

final class Snapshots_Screen {

	/** Screen option: snapshots per page (user option). */
	const PER_PAGE_OPTION  = 'ss_snapshots_per_page';
	const DEFAULT_PER_PAGE = 20;
	/** The API's largest page. */
	const MAX_PER_PAGE = 200;

	/** @var Snapshots_List_Table|null */
	private static $table = null;

	public static function edit_url( string $snapshot_id ): string {
		return Admin_Menu::page_url( Admin_Menu::SNAPSHOTS, array( 'view' => 'edit', 'snapshot' => rawurlencode( $snapshot_id ) ) );
	}

	/**
	 * The actions for one snapshot (row actions here, buttons on the edit screen).
	 *
	 * @return array<string,string> HTML links, escaped.
	 */
	public static function snapshot_actions( array $item, bool $with_edit ): array {
		$actions = array();
		if ( $with_edit ) {
			$actions['edit'] = sprintf( '<a href="%1$s" class="ss-action-edit">%2$s</a>', esc_url( Snapshots_Screen::edit_url( $item['id'] ) ), esc_html__( 'Edit', 'scheduled-snapshots' ) );
		}
		if ( ! in_array( $item['status'], array( 'deleting', 'deleted' ), true ) ) {
			$actions['trash'] = sprintf(
				'<a href="%1$s" class="submitdelete ss-action-trash" data-ss-confirm="%2$s" data-can-delete="%3$s">%4$s</a>',
				esc_url( Admin_Action::url( 'ss_trash_snapshot', 'snapshot', $item['id'] ) ),
				esc_attr( self::trash_confirmation( $item ) ),
				$item['canDelete'] ? '1' : '0',
				esc_html__( 'Trash', 'scheduled-snapshots' )
			);
		}
		$actions['delete_record'] = sprintf(
			'<a href="%1$s" class="submitdelete ss-action-delete-record" data-ss-confirm="%2$s">%3$s</a>',
			esc_url( Admin_Action::url( 'ss_delete_snapshot_record', 'snapshot', $item['id'] ) ),
			esc_attr__( 'Delete only the record of this snapshot from the list? Nothing is deleted at the provider (delete it there yourself if you need to). The audit log keeps the event.', 'scheduled-snapshots' ),
			esc_html__( 'Delete Record', 'scheduled-snapshots' )
		);
		return $actions;
	}

	public static function trash_confirmation( array $item ): string {
		$provider = '' !== $item['provider'] ? Provider_Names::of( $item['provider'] ) : __( 'the provider', 'scheduled-snapshots' );
		if ( ! $item['canDelete'] ) {
			return sprintf(
				/* translators: %s: provider */
				__( 'Trash this snapshot? %s cannot delete snapshots through its API: only the record in this list is removed, and the copy at the provider stays.', 'scheduled-snapshots' ),
				$provider
			);
		}
		return sprintf(
			/* translators: %s: provider */
			__( 'Trash this snapshot? It will be deleted at %s and then removed from this list. This cannot be undone.', 'scheduled-snapshots' ),
			$provider
		);
	}

	public static function view(): string {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- selects a view only
		return isset( $_GET['view'] ) && 'edit' === $_GET['view'] ? 'edit' : 'list';
	}

	/** load-{hook}: screen option and list table before any output. */
	public static function load(): void {
		if ( 'list' !== self::view() ) {
			return;
		}
		self::$table = self::make_table();
		add_screen_option(
			'per_page',
			array(
				'label'   => __( 'Snapshots per page', 'scheduled-snapshots' ),
				'default' => self::DEFAULT_PER_PAGE,
				'option'  => self::PER_PAGE_OPTION,
			)
		);
	}

	public static function make_table(): Snapshots_List_Table {
		require_once ABSPATH . 'wp-admin/includes/class-wp-list-table.php';
		require_once __DIR__ . '/class-snapshots-list-table.php';
		return new Snapshots_List_Table();
	}

	/**
	 * set-screen-option: keep a sane per-page number.
	 *
	 * @param mixed $status
	 * @param mixed $value
	 * @return int|mixed
	 */
	public static function save_per_page( $status, string $option, $value ) {
		return max( 1, min( self::MAX_PER_PAGE, (int) $value ) );
	}

	public static function render(): void {
		if ( ! current_user_can( Config::required_capability() ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage snapshots.', 'scheduled-snapshots' ), 403 );
		}
		echo '<div class="wrap ss-wrap" id="ss-snapshots-screen">';
		if ( 'edit' === self::view() ) {
			self::render_edit( Admin_Action::query_id( 'snapshot' ) );
		} else {
			self::render_list();
		}
		echo '</div>';
	}

	private static function render_list(): void {
		$table = self::$table ?: self::make_table();
		$table->prepare_items();
		echo '<h1 class="wp-heading-inline">' . esc_html__( 'Snapshots', 'scheduled-snapshots' ) . '</h1>';
		echo '<hr class="wp-header-end" />';
		if ( $table->error ) {
			Notices::print_inline_error( $table->error );
		}
		echo '<p class="description">' . esc_html__( 'Snapshots taken by schedules, by “Take snapshot now”, and from the host\'s backup tab. Hover over a row to Edit, Trash (delete at the provider) or Delete Record (forget it here only).', 'scheduled-snapshots' ) . '</p>';
		// A GET form back to this page: keep the page's own query arguments (page, post_type).
		$action = Admin_Menu::page_url( Admin_Menu::SNAPSHOTS );
		echo '<form method="get" action="' . esc_url( strtok( $action, '?' ) ) . '" id="ss-snapshots-filter">';
		$query = (string) wp_parse_url( $action, PHP_URL_QUERY );
		parse_str( $query, $base_args );
		foreach ( $base_args as $name => $value ) {
			if ( is_string( $value ) ) {
				echo '<input type="hidden" name="' . esc_attr( $name ) . '" value="' . esc_attr( $value ) . '" />';
			}
		}
		$table->display();
		echo '</form>';
	}

	private static function render_edit( ?string $snapshot_id ): void {
		echo '<h1>' . esc_html__( 'Edit Snapshot', 'scheduled-snapshots' ) . '</h1>';
		echo '<p><a href="' . esc_url( Admin_Menu::page_url( Admin_Menu::SNAPSHOTS ) ) . '">' . esc_html__( '← All snapshots', 'scheduled-snapshots' ) . '</a></p>';
		if ( null === $snapshot_id ) {
			Notices::print_box( 'error', __( 'That snapshot id is not valid.', 'scheduled-snapshots' ) );
			return;
		}
		$client = Sidecar_Client::from_config();
		$json   = $client->get( '/api/v1/snapshots/' . rawurlencode( $snapshot_id ) );
		if ( is_wp_error( $json ) ) {
			Notices::print_inline_error( $json );
			return;
		}
		$snapshot = Api_Shapes::snapshot( isset( $json['snapshot'] ) ? $json['snapshot'] : $json );
		if ( null === $snapshot ) {
			Notices::print_box( 'error', __( 'The snapshot service sent a snapshot this screen cannot read.', 'scheduled-snapshots' ) );
			return;
		}

		self::render_details( $snapshot );
		self::render_protection_form( $snapshot );

		echo '<h2>' . esc_html__( 'Delete', 'scheduled-snapshots' ) . '</h2>';
		if ( ! $snapshot['canDelete'] ) {
			echo '<p class="ss-provider-cannot-delete">' . esc_html(
				sprintf(
					/* translators: %s: provider */
					__( '%s cannot delete snapshots through its API: Trash removes only the record here, and the copy at the provider stays.', 'scheduled-snapshots' ),
					'' !== $snapshot['provider'] ? Provider_Names::of( $snapshot['provider'] ) : __( 'This provider', 'scheduled-snapshots' )
				)
			) . '</p>';
		}
		$actions = self::snapshot_actions( $snapshot, false );
		echo '<p class="ss-snapshot-actions">';
		foreach ( $actions as $key => $html ) {
			// Escaped when built; shown as buttons here.
			echo str_replace( 'class="submitdelete ', 'class="button ss-button-delete ', $html ) . ' '; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
		}
		echo '</p>';
		echo '<p class="description">' . esc_html__( 'Trash deletes the snapshot at the provider, then removes it from this list. Delete Record removes only the list entry (use it when the provider copy is already gone or the delete keeps failing).', 'scheduled-snapshots' ) . '</p>';

		self::render_history( $client, $snapshot['id'] );
	}

	private static function render_details( array $s ): void {
		$provider = '' === $s['provider'] ? '—' : Provider_Names::of( $s['provider'] );
		if ( '' !== $s['provider'] && $provider !== $s['provider'] ) {
			$provider .= ' (' . $s['provider'] . ')';
		}
		$rows = array(
			__( 'Server', 'scheduled-snapshots' )               => '' !== $s['serverName'] ? $s['serverName'] : '#' . $s['serverId'],
			__( 'Provider', 'scheduled-snapshots' )             => $provider,
			__( 'Snapshot id at the provider', 'scheduled-snapshots' ) => '' !== $s['providerSnapshotId'] ? $s['providerSnapshotId'] : '—',
			__( 'Name', 'scheduled-snapshots' )                 => $s['name'],
			__( 'Origin', 'scheduled-snapshots' )               => Display::origin( $s['origin'] ),
			__( 'Schedule', 'scheduled-snapshots' )             => null === $s['scheduleId'] ? '—' : ( '' !== $s['scheduleName'] ? $s['scheduleName'] : __( '(deleted schedule)', 'scheduled-snapshots' ) ),
			__( 'Status', 'scheduled-snapshots' )               => Display::status( $s['status'] ),
			__( 'Created', 'scheduled-snapshots' )              => null === $s['createdAt'] ? '—' : Display::time( $s['createdAt'] ),
			__( 'Available since', 'scheduled-snapshots' )      => null === $s['availableAt'] ? '—' : Display::time( $s['availableAt'] ),
			__( 'Size', 'scheduled-snapshots' )                 => '' === Display::size( $s['sizeBytes'] ) ? '—' : Display::size( $s['sizeBytes'] ),
			__( 'Protection', 'scheduled-snapshots' )           => '' !== $s['protection'] ? $s['protection'] : '—',
		);
		if ( null !== $s['retention'] ) {
			$rows[ __( 'Retention', 'scheduled-snapshots' ) ] = implode( '; ', $s['retention']['reasons'] );
		}
		if ( '' !== $s['lastError'] ) {
			$rows[ __( 'Last error', 'scheduled-snapshots' ) ] = $s['lastError'];
		}
		echo '<table class="widefat striped ss-snapshot-details" id="ss-snapshot-details" data-snapshot-id="' . esc_attr( $s['id'] ) . '" data-status="' . esc_attr( $s['status'] ) . '"><tbody>';
		foreach ( $rows as $label => $value ) {
			echo '<tr><th scope="row">' . esc_html( $label ) . '</th><td>' . esc_html( $value ) . '</td></tr>';
		}
		echo '</tbody></table>';
	}

	private static function render_protection_form( array $s ): void {
		echo '<h2>' . esc_html__( 'Protection and note', 'scheduled-snapshots' ) . '</h2>';
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" id="ss-snapshot-form">';
		echo '<input type="hidden" name="action" value="ss_update_snapshot" />';
		echo '<input type="hidden" name="snapshot" value="' . esc_attr( $s['id'] ) . '" />';
		wp_nonce_field( Admin_Action::nonce_action( 'ss_update_snapshot', $s['id'] ) );
		echo '<table class="form-table" role="presentation"><tbody>';
		printf(
			'<tr><th scope="row">%1$s</th><td><label><input type="checkbox" name="keepForever" id="ss-keep-forever" value="1"%2$s /> %3$s</label><p class="description">%4$s</p></td></tr>',
			esc_html__( 'Never delete automatically', 'scheduled-snapshots' ),
			checked( $s['keepForever'], true, false ),
			esc_html__( 'Keep this snapshot whatever the retention rules say', 'scheduled-snapshots' ),
			esc_html__( 'You can still delete it yourself with Trash.', 'scheduled-snapshots' )
		);
		$date = '';
		if ( null !== $s['deleteNotBefore'] ) {
			$ts   = Display::timestamp( $s['deleteNotBefore'] );
			$date = null === $ts ? '' : wp_date( 'Y-m-d', $ts );
		}
		printf(
			'<tr><th scope="row"><label for="ss-delete-not-before">%1$s</label></th><td><input type="date" name="deleteNotBefore" id="ss-delete-not-before" value="%2$s" /><p class="description">%3$s</p></td></tr>',
			esc_html__( 'Do not delete before', 'scheduled-snapshots' ),
			esc_attr( $date ),
			esc_html(
				sprintf(
					/* translators: %s: timezone */
					__( 'Retention will not delete it before this day is over (site timezone, %s). Leave empty for no date.', 'scheduled-snapshots' ),
					Display::site_timezone_name()
				)
			)
		);
		printf(
			'<tr><th scope="row"><label for="ss-note">%1$s</label></th><td><textarea name="note" id="ss-note" rows="3" class="large-text" maxlength="1000">%2$s</textarea></td></tr>',
			esc_html__( 'Note', 'scheduled-snapshots' ),
			esc_textarea( $s['note'] )
		);
		echo '</tbody></table>';
		submit_button( __( 'Update Snapshot', 'scheduled-snapshots' ), 'primary', 'submit', true, array( 'id' => 'ss-snapshot-submit' ) );
		echo '</form>';
	}

	private static function render_history( Sidecar_Client $client, string $snapshot_id ): void {
		echo '<h2>' . esc_html__( 'History', 'scheduled-snapshots' ) . '</h2>';
		$json = $client->get( '/api/v1/snapshots/' . rawurlencode( $snapshot_id ) . '/events' );
		if ( is_wp_error( $json ) ) {
			Notices::print_inline_error( $json );
			return;
		}
		$events = array();
		foreach ( Api_Shapes::items( $json ) as $raw ) {
			$event = Api_Shapes::event( $raw );
			if ( null !== $event ) {
				$events[] = $event;
			}
		}
		echo '<table class="widefat striped ss-history" id="ss-snapshot-history"><thead><tr>';
		echo '<th scope="col">' . esc_html__( 'When', 'scheduled-snapshots' ) . '</th><th scope="col">' . esc_html__( 'Who', 'scheduled-snapshots' ) . '</th><th scope="col">' . esc_html__( 'What', 'scheduled-snapshots' ) . '</th><th scope="col">' . esc_html__( 'Details', 'scheduled-snapshots' ) . '</th>';
		echo '</tr></thead><tbody>';
		if ( ! $events ) {
			echo '<tr><td colspan="4">' . esc_html__( 'No events recorded.', 'scheduled-snapshots' ) . '</td></tr>';
		}
		foreach ( $events as $event ) {
			printf(
				'<tr><td><time datetime="%1$s">%2$s</time></td><td>%3$s</td><td>%4$s</td><td>%5$s</td></tr>',
				esc_attr( (string) $event['at'] ),
				esc_html( Display::time( $event['at'] ) ),
				esc_html( Display::actor( $event['actor'] ) ),
				esc_html( Display::event_action( $event['action'] ) ),
				esc_html( $event['detail'] )
			);
		}
		echo '</tbody></table>';
	}
}
