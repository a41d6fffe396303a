// Package cache stores LM responses so that a rerun costs nothing: across
// calls, restarts and processes.
//
// # Stores
//
// A Store maps opaque keys to values with an expiry. Three ship here:
//
//   - Memory: bigcache in the process's memory; fast, lost at exit.
//   - Disk: a SQLite file in a directory (default DefaultDir,
//     os.UserCacheDir()/dspex); it survives the process and is shared by
//     every process that opens the same directory.
//   - Tiered: a front store before a back store (Memory before Disk in the
//     runtime); back hits are copied to the front.
//
// Any other store (Redis, memcached) plugs in by implementing Store; the
// runtime takes one through dspex.WithCache. The runtime decides what goes
// in: successful replies with choices only, keyed by a digest of provider,
// model, messages, sampling parameters and rollout id, never of an API
// key.
//
// # Why SQLite (modernc.org/sqlite) for the disk tier
//
// Several processes on one machine — cluster nodes, two optimisation runs
// at once — must be able to share one cache directory. SQLite in WAL mode
// does this natively: readers in any process run beside one writer, and
// writers in different processes take turns through file locks with a
// busy timeout. It is crash safe (a process killed mid-write leaves a file
// that opens, with every committed transaction), checks its own integrity
// (PRAGMA quick_check) and reports a full disk as an error instead of
// corrupting. The driver is pure Go, so builds need no C toolchain.
//
// The alternatives were weighed: bbolt is single-writer through an
// exclusive file lock held while the file is open, so a second process
// would either wait or have to reopen the file around every batch of
// operations (slow reads, lock contention); pebble holds a LOCK file for
// one process too, and is a large dependency for a key-value cache. A
// hand-written file-per-entry store would share well but would need its
// own size accounting and recovery; SQLite has both.
//
// # Faults
//
//   - A process killed mid-write: SQLite's WAL discards the unfinished
//     transaction at the next open; committed entries read back.
//   - A corrupt file, or a file that is not a database: moved aside
//     (renamed FileName.corrupt-<time>) with a warning, and a fresh file
//     is started. Corruption found while running turns the disk tier off
//     for the process (gets miss, sets fail): the run goes on, uncached.
//   - A full disk: Set fails with ErrWriteFailed, counted in
//     Stats.WriteErrors and logged (the 1st, 2nd, 4th... failure); reads
//     go on.
//   - A file of another FormatVersion: emptied and re-created (with a
//     warning), never misread.
//
// # Size and expiry
//
// Every entry carries its expiry; expired entries are never returned. The
// disk tier caps the total size of its entries (DiskConfig.MaxSizeMB):
// when a write goes past the cap, expired entries go first, then the least
// recently used, down to 90% of the cap. Recency is refreshed by a hit at
// most once a minute per entry, so reads stay reads.
//
// # Telemetry
//
// Stats reports hits, misses, entries, bytes, evictions and failed writes,
// per tier for a Tiered store; RegisterMetrics exposes the same as
// OpenTelemetry instruments with a dspex.cache.tier attribute.
package cache
