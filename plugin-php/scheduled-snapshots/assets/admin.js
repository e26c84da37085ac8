/* Scheduled Snapshots admin screens: confirmations and the schedule form's live preview.
 * The form carries its ajax URL, nonce and sentences in data-ss-* attributes (rendered, translated, by the sidecar). */
( function () {
	'use strict';

	// Trash / Delete Record / other destructive links carry their confirmation text.
	document.addEventListener( 'click', function ( event ) {
		var target = event.target && event.target.closest ? event.target.closest( '[data-ss-confirm]' ) : null;
		if ( target && ! window.confirm( target.getAttribute( 'data-ss-confirm' ) ) ) {
			event.preventDefault();
			event.stopImmediatePropagation();
		}
	}, true );

	var form = document.getElementById( 'ss-schedule-form' );
	if ( ! form || ! form.getAttribute( 'data-ss-ajax' ) || ! window.fetch || ! window.FormData ) {
		return;
	}

	var interval = document.getElementById( 'ss-schedule-interval' );
	var cron = document.getElementById( 'ss-schedule-cron' );
	var runs = document.getElementById( 'ss-next-runs' );
	var words = document.getElementById( 'ss-retention-preview' );
	var message = document.createElement( 'p' );
	message.id = 'ss-preview-message';
	message.className = 'ss-field-error';
	message.setAttribute( 'aria-live', 'polite' );
	runs.parentNode.insertBefore( message, runs.nextSibling );

	function syncFrequency() {
		var useCron = form.querySelector( 'input[name="ss_schedule[frequency]"]:checked' );
		useCron = useCron && useCron.value === 'cron';
		interval.readOnly = useCron;
		cron.readOnly = ! useCron;
		interval.classList.toggle( 'ss-inactive', useCron );
		cron.classList.toggle( 'ss-inactive', ! useCron );
	}

	var timer = null;
	var sequence = 0;
	function schedulePreview() {
		window.clearTimeout( timer );
		timer = window.setTimeout( preview, 400 );
	}

	function preview() {
		var mine = ++sequence;
		var data = new FormData( form );
		data.set( 'action', 'ss_schedule_preview' );
		data.set( '_ajax_nonce', form.getAttribute( 'data-ss-preview-nonce' ) );
		window.fetch( form.getAttribute( 'data-ss-ajax' ), { method: 'POST', body: data, credentials: 'same-origin' } )
			.then( function ( response ) { return response.json(); } )
			.then( function ( json ) {
				if ( mine !== sequence ) {
					return;
				}
				var body = json && json.data ? json.data : {};
				while ( runs.firstChild ) {
					runs.removeChild( runs.firstChild );
				}
				( body.nextRuns || [] ).forEach( function ( run ) {
					var li = document.createElement( 'li' );
					li.textContent = run.text + ' ';
					var rel = document.createElement( 'span' );
					rel.className = 'description';
					rel.textContent = '(' + run.relative + ')';
					li.appendChild( rel );
					runs.appendChild( li );
				} );
				words.textContent = body.retentionSummary || '';
				var spread = document.getElementById( 'ss-spread-note' );
				if ( spread ) {
					spread.textContent = body.spreadNote || '';
				}
				var problems = [];
				if ( body.fields ) {
					Object.keys( body.fields ).forEach( function ( key ) {
						problems.push( body.fields[ key ] );
					} );
				}
				if ( ! problems.length && body.message ) {
					problems.push( body.message );
				}
				if ( ! json.success && json.data && json.data.message ) {
					problems.push( json.data.message );
				}
				message.textContent = problems.join( ' ' );
			} )
			.catch( function () {
				if ( mine === sequence ) {
					message.textContent = form.getAttribute( 'data-ss-preview-failed' );
				}
			} );
	}

	form.addEventListener( 'input', schedulePreview );
	form.addEventListener( 'change', function () {
		syncFrequency();
		schedulePreview();
	} );
	syncFrequency();
}() );
