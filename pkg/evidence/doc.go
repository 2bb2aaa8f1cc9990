// Package evidence builds and verifies evidence bundles: everything that
// shows what happened under one grant, in a directory an outside auditor
// can check offline with nothing but the CA's public keys.
//
// # What a bundle holds
//
//	manifest.json          format, request, and the size and SHA-256 of every other file
//	evidence.json          the Summary: request, approvals, decisions, certificates,
//	                       sessions and their recordings, each with its audit row
//	audit/rows.jsonl       the audit chain's rows from the request's submission
//	                       through the checkpoint's row, one JSON object a line
//	audit/checkpoint.txt   the signed checkpoint those rows end at (text and
//	                       armored SSH signature, as `lockbox audit checkpoint` prints it)
//	certificates/SERIAL-cert.pub   each certificate issued for the grant, as its
//	                       usercert.issued or hopcert.issued row holds it
//	recordings/SESSION.cast.gz     each session's recording as the CA stored it
//
// # Why it can be trusted
//
// The manifest only makes a changed file easy to name; trust comes from the
// chain. The checkpoint is signed by the audit key. The rows chain, each to
// the one before, up to the checkpoint's row, whose hash the checkpoint
// states, so none can be changed, dropped or reordered. The summary is a
// pure function of the rows (Summarize), which Verify computes again. Each
// certificate is the one its row holds, and is signed by the CA key given;
// each recording has the SHA-256 its recording.stored row states.
//
// Rows belong to the grant when their subject is the request, or is a
// session whose session.started row names the request. Since the segment
// holds every row from the request's submission to the checkpoint, a
// bundle shows everything about the grant that was logged before the
// checkpoint; nothing after it. The segment also holds other grants' rows
// from that time, which is how the chain proves itself: the rows' hashes
// cover their whole content.
package evidence
