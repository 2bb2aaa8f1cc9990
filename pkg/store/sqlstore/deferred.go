package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lockbox-ssh/lockbox/pkg/store"
)

// Deferred appends: in a transaction that several Updates share, rows
// that are only ever inserted (nonces, certificates, kept answers, audit
// records) are held in memory and written at the end of the batch, one
// multi-row INSERT per table, and the audit head moves once, from the
// head the batch started on to the last record's. On MySQL, where every
// statement is a round trip, an issuance then costs its reads rather than
// a dozen statements.
//
// What this must keep: each Update sees its own writes and earlier ones'
// (any statement not known to leave these tables alone writes the held
// rows first: see deferredQuerier), a failed Update leaves nothing behind
// (its held rows are dropped; what it wrote directly is undone by a
// savepoint, taken when it first writes directly), and a conflict the
// database would have reported to the Update (a reused nonce, say) is
// still reported to it: a held row that repeats another held row's key is
// refused at once, and one that repeats a stored row fails the final
// INSERT, which fails the batch; the writer then runs each Update again
// in a transaction of its own, without deferral, where the database
// reports the conflict to the Update itself.

// appendTable is a table whose rows are only inserted.
type appendTable struct {
	name    string
	columns []string
	keyCols int // the primary key is the first keyCols columns
	// prefix is "INSERT INTO name (columns) VALUES ", row one group of
	// placeholders.
	prefix, row string
	inserts     map[int]string // insert(n) for each chunk size
}

func newAppendTable(name string, keyCols int, columns ...string) *appendTable {
	a := &appendTable{name: name, columns: columns, keyCols: keyCols,
		prefix: "INSERT INTO " + name + " (" + strings.Join(columns, ", ") + ") VALUES ",
		row:    "(" + placeholders(len(columns)) + ")"}
	a.inserts = map[int]string{}
	for _, n := range chunkSizes() {
		a.inserts[n] = a.build(n)
	}
	return a
}

var (
	nonceTable  = newAppendTable("nonces", 2, "principal", "nonce", "expires_us")
	answerTable = newAppendTable("answers", 2, "principal", "idem_key", "fingerprint", "status", "body", "created_us", "expires_us")
	certTable   = newAppendTable("certificates", 1, "serial", "kind", "request_id", "requester", "bastion", "key_id", "principals",
		"fingerprint", "valid_after_us", "valid_before_us", "issued_us")
	auditTable   = newAppendTable("audit_log", 1, "seq", "at_us", "actor", "action", "subject", "detail", "prev_hash", "hash")
	appendTables = []*appendTable{nonceTable, answerTable, certTable, auditTable}
)

// maxRowsPerInsert bounds one multi-row INSERT. Held rows are written in
// one INSERT of exactly their number up to exactRowsPerInsert, the size of
// most batches, and beyond it in chunks of powers of two up to
// maxRowsPerInsert and a last exact one, so that a few prepared statements
// per table serve every batch size, and a batch of up to
// exactRowsPerInsert issuances writes each table with one statement.
const (
	maxRowsPerInsert   = 64
	exactRowsPerInsert = 16
)

// chunkSizes are the sizes of the multi-row INSERTs chunk chooses.
func chunkSizes() []int {
	var out []int
	for n := 1; n <= exactRowsPerInsert; n++ {
		out = append(out, n)
	}
	for n := 2 * exactRowsPerInsert; n <= maxRowsPerInsert; n *= 2 {
		out = append(out, n)
	}
	return out
}

// chunk is how many of n held rows of a table the next INSERT writes.
func chunk(n int) int {
	if n <= exactRowsPerInsert {
		return n
	}
	c := exactRowsPerInsert
	for c*2 <= min(n, maxRowsPerInsert) {
		c *= 2
	}
	return c
}

// insert is the statement that inserts n rows into a.
func (a *appendTable) insert(n int) string {
	if q, ok := a.inserts[n]; ok {
		return q
	}
	return a.build(n)
}

func (a *appendTable) build(n int) string {
	return a.prefix + strings.TrimSuffix(strings.Repeat(a.row+",", n), ",")
}

// appendQueries are the multi-row INSERTs, prepared at open.
func appendQueries() []string {
	var out []string
	for _, a := range appendTables {
		for _, n := range chunkSizes() {
			out = append(out, a.insert(n))
		}
	}
	return out
}

type heldRow struct {
	table *appendTable
	args  []any
}

func (r heldRow) key() string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString(r.table.name)
	for _, v := range r.args[:r.table.keyCols] {
		b.WriteByte(0)
		switch v := v.(type) { // the key columns' types, without fmt
		case string:
			b.WriteString(v)
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		default:
			fmt.Fprintf(&b, "%v", v)
		}
	}
	return b.String()
}

// deferred holds one shared transaction's appends and the audit head as
// they stand in the transaction.
type deferred struct {
	rows []heldRow
	keys map[string]bool // of the rows held or written in this batch

	headKnown bool
	seq       int64  // the head with the held records
	hash      []byte //
	storedSeq int64  // the head as stored in the transaction

	op opMark // the Update running now

	// locked holds the requests this transaction read with LockRequest,
	// as read. Nobody else can change a row the transaction holds locked
	// (on SQLite it holds the whole database), so a second Update of the
	// batch that locks the same request is answered from here, until a
	// statement of the transaction's own may have changed it (any that is
	// not passThrough) or an Update is undone.
	locked map[string]*store.Request

	// lockHead, if not nil, takes the batch lock (mysqlDialect.batchLock)
	// and learns the head. It runs before the transaction's first
	// statement other than the final INSERT of nonces: a batch that only
	// spends nonces locks nothing but its new rows, and commits beside
	// another writer's batch rather than after it.
	lockHead   func() error
	headLocked bool
}

// ensureLocked takes the batch lock if it is due and not yet taken.
func (d *deferred) ensureLocked() error {
	if d.lockHead == nil || d.headLocked {
		return nil
	}
	d.headLocked = true
	return d.lockHead()
}

// opMark is where an Update started, to undo it.
type opMark struct {
	rows      int
	seq       int64
	hash      []byte
	savepoint bool     // taken; the Update has written directly
	written   []string // keys of its rows written since the savepoint
}

func newDeferred() *deferred {
	return &deferred{keys: map[string]bool{}, locked: map[string]*store.Request{}}
}

// knowHead records the head as read from the database: by the batch
// lock, or by the first AuditHead. No record is held before it is known,
// so it is also the head the running Update started from.
func (d *deferred) knowHead(seq int64, hash []byte) {
	if len(hash) == 0 {
		hash = nil
	}
	d.headKnown, d.seq, d.hash, d.storedSeq = true, seq, hash, seq
	d.op.seq, d.op.hash = seq, hash
}

// hold keeps a row for the end of the batch; ErrDuplicate if a held row
// has its key.
func (d *deferred) hold(a *appendTable, args ...any) error {
	r := heldRow{a, args}
	k := r.key()
	if d.keys[k] {
		return fmt.Errorf("%w: %s %v held twice in one transaction", store.ErrDuplicate, a.name, args[:a.keyCols])
	}
	d.keys[k] = true
	d.rows = append(d.rows, r)
	return nil
}

// begin marks the start of an Update.
func (d *deferred) begin() {
	d.op = opMark{rows: len(d.rows), seq: d.seq, hash: d.hash}
}

// undo drops what the Update running now held. The caller rolls back to
// its savepoint if it took one.
func (d *deferred) undo() {
	for _, r := range d.rows[d.op.rows:] {
		delete(d.keys, r.key())
	}
	for _, k := range d.op.written {
		delete(d.keys, k)
	}
	d.rows = d.rows[:d.op.rows]
	d.seq, d.hash = d.op.seq, d.op.hash
	clear(d.locked)
	if d.op.savepoint {
		// The savepoint was taken after the rows and head of the Updates
		// before this one were written.
		d.storedSeq = d.op.seq
	}
}

// write inserts rows and moves the stored head to seq, hash.
func (d *deferred) write(ctx context.Context, q querier, rows []heldRow, seq int64, hash []byte) error {
	for _, a := range appendTables {
		var args []any
		n := 0
		for _, r := range rows {
			if r.table == a {
				args = append(args, r.args...)
				n++
			}
		}
		for n > 0 {
			chunk := chunk(n)
			if _, err := q.ExecContext(ctx, a.insert(chunk), args[:chunk*len(a.columns)]...); err != nil {
				return fmt.Errorf("writing %d rows to %s: %w", chunk, a.name, err)
			}
			args, n = args[chunk*len(a.columns):], n-chunk
		}
	}
	if !d.headKnown || seq == d.storedSeq {
		return nil
	}
	res, err := q.ExecContext(ctx, qMoveAuditHead, seq, hash, d.storedSeq)
	if err != nil {
		return fmt.Errorf("moving the audit head to %d: %w", seq, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("the audit head moved under the transaction (to %d from %d): %w", seq, d.storedSeq, store.ErrConflict)
	}
	d.storedSeq = seq
	return nil
}

// drop forgets the first n held rows, written now. Their keys stay: a
// repeat of one later in the batch is refused at once rather than fail
// the batch's final write.
func (d *deferred) drop(n int) {
	d.rows = append(d.rows[:0], d.rows[n:]...)
}

// flushAll writes everything held, at the end of the batch.
func (d *deferred) flushAll(ctx context.Context, q querier) error {
	if slices.ContainsFunc(d.rows, func(r heldRow) bool { return r.table != nonceTable }) {
		if err := d.ensureLocked(); err != nil {
			return err
		}
	}
	if err := d.write(ctx, q, d.rows, d.seq, d.hash); err != nil {
		return err
	}
	d.drop(len(d.rows))
	clear(d.keys)
	return nil
}

// beforeDirect readies the transaction for a statement that may read or
// write these tables, run by the Update running now: the earlier
// Updates' rows are written and the savepoint taken (once per Update),
// then the current Update's own rows are written.
func (d *deferred) beforeDirect(ctx context.Context, q querier) error {
	clear(d.locked)
	if !d.op.savepoint {
		if err := d.write(ctx, q, d.rows[:d.op.rows], d.op.seq, d.op.hash); err != nil {
			return err
		}
		d.drop(d.op.rows)
		d.op.rows = 0
		if _, err := q.ExecContext(ctx, qSavepoint); err != nil {
			return err
		}
		d.op.savepoint = true
	}
	if err := d.write(ctx, q, d.rows, d.seq, d.hash); err != nil {
		return err
	}
	for _, r := range d.rows {
		d.op.written = append(d.op.written, r.key())
	}
	d.drop(len(d.rows))
	return nil
}

// passThrough are statements that touch none of the deferred tables nor
// write anything: they run as they are, without writing held rows first.
var passThrough = map[string]bool{}

func init() {
	for _, q := range []string{qSelectRequest, qSelectRequest + mysqlDialect{}.forUpdate(), qAuditHead, qAuditHead + mysqlDialect{}.forUpdate()} {
		passThrough[q] = true
	}
}

// deferredQuerier runs an Update's statements in a shared transaction
// with deferred appends. A statement that is not passThrough first has
// the held rows written (beforeDirect); if that fails, the statement is
// not run, the failure is kept in broken, and the batch fails.
type deferredQuerier struct {
	q      querier
	d      *deferred
	broken *error
}

func (dq deferredQuerier) ready(ctx context.Context, query string) (context.Context, error) {
	if *dq.broken == nil {
		*dq.broken = dq.d.ensureLocked()
	}
	if *dq.broken == nil && !passThrough[query] {
		*dq.broken = dq.d.beforeDirect(ctx, dq.q)
	}
	if *dq.broken != nil {
		c, cancel := context.WithCancelCause(ctx)
		cancel(*dq.broken)
		return c, *dq.broken
	}
	return ctx, nil
}

func (dq deferredQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if _, err := dq.ready(ctx, query); err != nil {
		return nil, unavailable(err)
	}
	return dq.q.ExecContext(ctx, query, args...)
}

func (dq deferredQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if _, err := dq.ready(ctx, query); err != nil {
		return nil, unavailable(err)
	}
	return dq.q.QueryContext(ctx, query, args...)
}

// QueryRowContext cannot return an error of its own: when the held rows
// could not be written it runs the query on a cancelled context, so that
// Scan fails, and the batch fails on broken.
func (dq deferredQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	c, _ := dq.ready(ctx, query)
	return dq.q.QueryRowContext(c, query, args...)
}
