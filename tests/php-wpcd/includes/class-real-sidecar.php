<?php
/**
 * The real sidecar (dist/sidecar/main.js, built by run.sh) on the test copy's database and a
 * free port, with a providers file whose DigitalOcean entries carry no credentials (they come
 * from WPCD's settings), pointed at a local DigitalOcean (php -S with a small router).
 */

namespace ScheduledSnapshots\Tests;

final class Real_Sidecar {

	/** @var resource[] */
	private $processes = array();

	/** @var string */
	public $url;

	/** @var string */
	private $dir;

	public function __construct( array $env ) {
		$this->dir = sys_get_temp_dir() . '/ss-wpcd-sidecar-' . bin2hex( random_bytes( 4 ) );
		mkdir( $this->dir );
		$do_port = self::free_port();
		$this->spawn( array( PHP_BINARY, '-S', '127.0.0.1:' . $do_port, __DIR__ . '/fake-digitalocean-router.php' ), array(), 'Development Server' );
		$providers = $this->dir . '/providers.json';
		$do        = array( 'type' => 'digitalocean', 'apiUrl' => 'http://127.0.0.1:' . $do_port );
		file_put_contents( $providers, wp_json_encode( array( 'digital-ocean' => $do, 'digital-ocean-alternate' => $do ) ) );
		$port      = self::free_port();
		$this->url = 'http://127.0.0.1:' . $port;
		$base      = array(
			'SS_DATABASE_URL'   => getenv( 'SS_PHPUNIT_DATABASE_URL' ),
			'SS_TABLE_PREFIX'   => 'phpwpcd_',
			'SS_SHARED_SECRET'  => SS_SHARED_SECRET,
			'SS_LISTEN'         => '127.0.0.1:' . $port,
			'SS_PROVIDERS_FILE' => $providers,
			'SS_LOG_LEVEL'      => 'info',
			'PATH'              => getenv( 'PATH' ),
		);
		$this->spawn( array( 'node', SS_TESTS_ROOT . '/dist/sidecar/main.js' ), array_merge( $base, $env ), 'sidecar listening' );
	}

	/** A signed GET as the plugin makes it. @return array|\WP_Error */
	public function get( string $path, array $query = array() ) {
		return ( new \ScheduledSnapshots\Sidecar_Client( $this->url, SS_SHARED_SECRET ) )->get( $path, $query );
	}

	public function stop(): void {
		foreach ( array_reverse( $this->processes ) as $process ) {
			proc_terminate( $process );
			proc_close( $process );
		}
		$this->processes = array();
		array_map( 'unlink', glob( $this->dir . '/*' ) );
		rmdir( $this->dir );
	}

	/** Start a process and wait for the line that says it is ready (its log, not a sleep). */
	private function spawn( array $command, array $env, string $ready ): void {
		$process = proc_open( $command, array( 0 => array( 'pipe', 'r' ), 1 => array( 'pipe', 'w' ), 2 => array( 'pipe', 'w' ) ), $pipes, SS_TESTS_ROOT, $env ? $env : null );
		if ( ! is_resource( $process ) ) {
			throw new \RuntimeException( 'could not start ' . implode( ' ', $command ) );
		}
		$this->processes[] = $process;
		$seen              = '';
		$deadline          = microtime( true ) + 30;
		while ( microtime( true ) < $deadline ) {
			$read   = array( $pipes[1], $pipes[2] );
			$write  = null;
			$except = null;
			if ( stream_select( $read, $write, $except, 1 ) ) {
				foreach ( $read as $stream ) {
					$line  = fgets( $stream );
					$seen .= (string) $line;
					if ( false !== strpos( (string) $line, $ready ) ) {
						return;
					}
				}
			}
			if ( ! proc_get_status( $process )['running'] ) {
				break;
			}
		}
		throw new \RuntimeException( implode( ' ', $command ) . " did not start:\n" . $seen );
	}

	private static function free_port(): int {
		$server = stream_socket_server( 'tcp://127.0.0.1:0' );
		$name   = stream_socket_get_name( $server, false );
		fclose( $server );
		return (int) substr( $name, strrpos( $name, ':' ) + 1 );
	}
}
