package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the name of the disk store's database inside its directory.
// SQLite keeps FileName+"-wal" and FileName+"-shm" beside it.
const FileName = "responses.sqlite"

// FormatVersion is the layout of the disk store's file, kept in its
// user_version. A file of another version is emptied when opened: an old
// format is discarded, never misread.
const FormatVersion = 1

// applicationID marks the file as a dspex response cache ("dspx").
const applicationID = 0x64737078

// touchEvery is how stale an entry's recency stamp may get before a hit
// refreshes it: refreshing on every hit would make every read a write.
const touchEvery = time.Minute

// DiskConfig configures a disk store.
type DiskConfig struct {
	// Dir is the directory of the store; it is created if missing.
	// Several processes may open the same Dir at once.
	Dir string
	// MaxSizeMB caps the size of the entries, in megabytes; the least
	// recently used are evicted first. 0 means no cap.
	MaxSizeMB int
	// BusyTimeout is how long a write waits for another process's write
	// to finish; 0 means 10s.
	BusyTimeout time.Duration
}

// DefaultDir returns the default directory of the disk store:
// os.UserCacheDir()/dspex.
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache: default dir: %w", err)
	}
	return filepath.Join(d, "dspex"), nil
}

// Disk is a store in a SQLite database file (FileName in its directory),
// through the pure-Go modernc.org/sqlite. It survives the process, and
// several processes can share one directory: SQLite in WAL mode lets
// readers run beside one writer and serialises writers across processes
// with file locks. It is safe for concurrent use.
//
// A file that is corrupt or not a database is moved aside (renamed with a
// ".corrupt-<time>" suffix) with a warning, and a fresh file is started; if
// corruption shows up later, while running, the store stops using the file
// (gets miss, sets fail with ErrWriteFailed) and the next open moves it
// aside. Failed writes — a full disk — are counted and logged while reads
// go on.
type Disk struct {
	db       *sql.DB
	path     string
	maxBytes int64
	log      *slog.Logger
	now      func() time.Time

	get, touch, upsert *sql.Stmt
	// writeMu serialises this process's writes: SQLite's busy handler
	// waits in sleeps of milliseconds, fine between processes but slow
	// between goroutines.
	writeMu sync.Mutex

	hits, misses, evictions, writeErrors atomic.Int64
	broken                               atomic.Bool
	closed                               atomic.Bool
	closeOnce                            sync.Once
	closeErr                             error
}

// OpenDisk opens (or creates) the disk store in cfg.Dir. It fails when the
// directory cannot be created or the file cannot be opened; a corrupt file
// or one of another FormatVersion is not an error (see Disk).
func OpenDisk(ctx context.Context, cfg DiskConfig, opts ...Option) (*Disk, error) {
	if cfg.Dir == "" {
		return nil, errors.New("cache: disk store: empty Dir")
	}
	if cfg.MaxSizeMB < 0 {
		return nil, fmt.Errorf("cache: disk store: MaxSizeMB %d must be >= 0", cfg.MaxSizeMB)
	}
	o := buildOptions(opts)
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: disk store: %w", err)
	}
	d := &Disk{
		path:     filepath.Join(cfg.Dir, FileName),
		maxBytes: int64(cfg.MaxSizeMB) << 20,
		log:      o.logger,
		now:      o.now,
	}
	busy := cfg.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	err := d.open(ctx, busy, o.maxPageCount)
	if isCorrupt(err) {
		aside, merr := moveAside(d.path, d.now())
		if merr != nil {
			return nil, fmt.Errorf("cache: disk store %s is corrupt (%v) and cannot be moved aside: %w", d.path, err, merr)
		}
		d.log.Warn("cache: corrupt cache file moved aside; starting a fresh cache",
			slog.String("file", d.path), slog.String("moved_to", aside), slog.Any("error", err))
		err = d.open(ctx, busy, o.maxPageCount)
	}
	if err != nil {
		return nil, fmt.Errorf("cache: disk store %s: %w", d.path, err)
	}
	return d, nil
}

// open opens the file, checks it and brings its schema to FormatVersion.
func (d *Disk) open(ctx context.Context, busy time.Duration, maxPages int) error {
	// Responses may hold private data: the file is the user's alone
	// (SQLite gives its -wal and -shm files the same mode).
	if f, err := os.OpenFile(d.path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		_ = f.Close()
	}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	// NORMAL in WAL mode: a committed transaction survives a crash of
	// the process (it is in the WAL, which the OS holds); only a power
	// loss may lose the last ones, never the file's consistency.
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	if maxPages > 0 {
		q.Add("_pragma", fmt.Sprintf("max_page_count(%d)", maxPages))
	}
	db, err := sql.Open("sqlite", "file:"+d.path+"?"+q.Encode())
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	if err := migrate(ctx, db, d.log, d.path); err != nil {
		_ = db.Close()
		return err
	}
	d.db = db
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = db.PrepareContext(ctx, q)
		return s
	}
	d.get = prep(`SELECT value, expires, used FROM entries WHERE key = ?`)
	d.touch = prep(`UPDATE entries SET used = ? WHERE key = ?`)
	d.upsert = prep(`INSERT INTO entries(key, value, size, expires, used) VALUES(?, ?, ?, ?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value, size = excluded.size,
		expires = excluded.expires, used = excluded.used`)
	if err != nil {
		_ = db.Close()
		d.db = nil
	}
	return err
}

// schema is the FormatVersion 1 layout. usage keeps the total size and
// count up to date through triggers, so that every process sees them.
const schema = `
CREATE TABLE entries (
	key     TEXT PRIMARY KEY,
	value   BLOB NOT NULL,
	size    INTEGER NOT NULL,
	expires INTEGER NOT NULL,
	used    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX entries_used ON entries(used);
CREATE TABLE usage (
	id      INTEGER PRIMARY KEY CHECK (id = 0),
	bytes   INTEGER NOT NULL,
	entries INTEGER NOT NULL
);
INSERT INTO usage VALUES (0, 0, 0);
CREATE TRIGGER entries_ins AFTER INSERT ON entries BEGIN
	UPDATE usage SET bytes = bytes + NEW.size, entries = entries + 1 WHERE id = 0;
END;
CREATE TRIGGER entries_del AFTER DELETE ON entries BEGIN
	UPDATE usage SET bytes = bytes - OLD.size, entries = entries - 1 WHERE id = 0;
END;
CREATE TRIGGER entries_upd AFTER UPDATE OF size ON entries BEGIN
	UPDATE usage SET bytes = bytes - OLD.size + NEW.size WHERE id = 0;
END;
`

// migrate checks the file and makes its layout FormatVersion, in one
// immediate transaction so that two processes opening a new directory at
// once do not both create it.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger, path string) error {
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check(1)`).Scan(&check); err != nil {
		return err
	}
	if check != "ok" {
		return &corruptError{detail: check}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var version, app int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
		return err
	}
	if version == FormatVersion && app == applicationID {
		return tx.Commit()
	}
	// A new file, or one of another format: start it over.
	rows, err := tx.QueryContext(ctx, `SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND type IN ('table', 'view')`)
	if err != nil {
		return err
	}
	var drops []string
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			_ = rows.Close()
			return err
		}
		drops = append(drops, fmt.Sprintf("DROP %s IF EXISTS %q", typ, name))
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, s := range drops {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, FormatVersion)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d`, applicationID)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if version != 0 || app != 0 || len(drops) > 0 {
		log.Warn("cache: discarded a cache file of another format", slog.String("file", path),
			slog.Int("format", version), slog.Int("want", FormatVersion))
	}
	return nil
}

// Path returns the database file's path.
func (d *Disk) Path() string { return d.path }

// Get implements Store. A hit refreshes the entry's recency when it is
// older than a minute.
func (d *Disk) Get(ctx context.Context, key string) (Entry, bool, error) {
	if d.closed.Load() {
		return Entry{}, false, ErrClosed
	}
	if d.broken.Load() {
		d.misses.Add(1)
		return Entry{}, false, nil
	}
	var (
		e             Entry
		expires, used int64
	)
	err := d.get.QueryRowContext(ctx, key).Scan(&e.Value, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		d.misses.Add(1)
		return Entry{}, false, nil
	}
	if err != nil {
		d.misses.Add(1)
		d.fault(err)
		return Entry{}, false, fmt.Errorf("cache: disk store get: %w", err)
	}
	if expires != 0 {
		e.Expires = time.Unix(0, expires)
	}
	now := d.now()
	if !e.live(now) {
		d.misses.Add(1)
		return Entry{}, false, nil
	}
	d.hits.Add(1)
	if now.UnixNano()-used > int64(touchEvery) {
		// Best effort: a lost refresh only makes the entry look older.
		d.writeMu.Lock()
		_, err := d.touch.ExecContext(ctx, now.UnixNano(), key)
		d.writeMu.Unlock()
		if err != nil {
			d.fault(err)
		}
	}
	return e, true, nil
}

// Set implements Store. When the entries exceed the size cap, it evicts
// the expired ones, then the least recently used, down to 90% of the cap.
// A failure is counted, logged and returned wrapping ErrWriteFailed.
func (d *Disk) Set(ctx context.Context, key string, e Entry) error {
	if d.closed.Load() {
		return ErrClosed
	}
	if d.broken.Load() {
		d.writeErrors.Add(1)
		return fmt.Errorf("%w: %s is turned off after corruption", ErrWriteFailed, d.path)
	}
	if err := d.set(ctx, key, e); err != nil {
		if ctx.Err() != nil {
			return err
		}
		d.fault(err)
		n := d.writeErrors.Add(1)
		if n&(n-1) == 0 { // the 1st, 2nd, 4th, 8th... failure
			d.log.Warn("cache: write to disk cache failed; the run goes on, that entry is not cached",
				slog.String("file", d.path), slog.Int64("failures", n), slog.Any("error", err))
		}
		return fmt.Errorf("%w: %s: %w", ErrWriteFailed, d.path, err)
	}
	return nil
}

func (d *Disk) set(ctx context.Context, key string, e Entry) error {
	var expires int64
	if !e.Expires.IsZero() {
		expires = e.Expires.UnixNano()
	}
	now := d.now().UnixNano()
	size := int64(len(key) + len(e.Value) + 32)
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.StmtContext(ctx, d.upsert).ExecContext(ctx, key, e.Value, size, expires, now); err != nil {
		return err
	}
	if d.maxBytes > 0 {
		if err := d.evict(ctx, tx, now); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// evict brings the entries under the cap, within tx.
func (d *Disk) evict(ctx context.Context, tx *sql.Tx, now int64) error {
	var bytes int64
	if err := tx.QueryRowContext(ctx, `SELECT bytes FROM usage WHERE id = 0`).Scan(&bytes); err != nil {
		return err
	}
	if bytes <= d.maxBytes {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM entries WHERE expires != 0 AND expires <= ?`, now); err != nil {
		return err
	}
	low := d.maxBytes / 10 * 9
	for {
		if err := tx.QueryRowContext(ctx, `SELECT bytes FROM usage WHERE id = 0`).Scan(&bytes); err != nil {
			return err
		}
		if bytes <= low {
			return nil
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM entries WHERE key IN (SELECT key FROM entries ORDER BY used LIMIT 32)`)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		d.evictions.Add(n)
	}
}

// Delete implements Store.
func (d *Disk) Delete(ctx context.Context, key string) error {
	if d.closed.Load() {
		return ErrClosed
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if _, err := d.db.ExecContext(ctx, `DELETE FROM entries WHERE key = ?`, key); err != nil {
		d.fault(err)
		return fmt.Errorf("cache: disk store delete: %w", err)
	}
	return nil
}

// Clear implements Store: it deletes every entry, for every process
// sharing the directory, and gives the space back to the file system
// when no other process is reading.
func (d *Disk) Clear(ctx context.Context) error {
	if d.closed.Load() {
		return ErrClosed
	}
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if _, err := d.db.ExecContext(ctx, `DELETE FROM entries`); err != nil {
		d.fault(err)
		return fmt.Errorf("cache: disk store clear: %w", err)
	}
	// Shrinking is best effort: it fails while others read.
	_, _ = d.db.ExecContext(ctx, `VACUUM`)
	_, _ = d.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return nil
}

// Stats implements Store. Entries and Bytes are read from the file, so
// they include other processes' entries.
func (d *Disk) Stats() Stats {
	st := Stats{Tier: "disk", Hits: d.hits.Load(), Misses: d.misses.Load(),
		Evictions: d.evictions.Load(), WriteErrors: d.writeErrors.Load()}
	if d.closed.Load() || d.broken.Load() {
		return st
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = d.db.QueryRowContext(ctx, `SELECT bytes, entries FROM usage WHERE id = 0`).Scan(&st.Bytes, &st.Entries)
	return st
}

// Close implements Store.
func (d *Disk) Close() error {
	d.closeOnce.Do(func() {
		d.closed.Store(true)
		d.closeErr = d.db.Close()
	})
	return d.closeErr
}

// fault turns the store off when err shows the file is corrupt; the next
// OpenDisk moves it aside.
func (d *Disk) fault(err error) {
	if isCorrupt(err) && d.broken.CompareAndSwap(false, true) {
		d.log.Warn("cache: disk cache file is corrupt; running without it until it is reopened",
			slog.String("file", d.path), slog.Any("error", err))
	}
}

// corruptError is a failed integrity check.
type corruptError struct{ detail string }

func (e *corruptError) Error() string { return "integrity check: " + e.detail }

// isCorrupt reports whether err says the file is damaged or not a
// database at all.
func isCorrupt(err error) bool {
	if err == nil {
		return false
	}
	var ce *corruptError
	if errors.As(err, &ce) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return true
		}
	}
	return false
}

// moveAside renames the database and its WAL and shared-memory files with
// a ".corrupt-<time>" suffix and returns the database's new name.
func moveAside(path string, now time.Time) (string, error) {
	suffix := ".corrupt-" + now.UTC().Format("20060102T150405.000000000")
	var errs []error
	for _, ext := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+ext, path+suffix+ext); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return path + suffix, errors.Join(errs...)
}
