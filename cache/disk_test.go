package cache

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// logBuffer collects a store's log lines.
func logBuffer() (*bytes.Buffer, Option) {
	var b bytes.Buffer
	return &b, WithLogger(slog.New(slog.NewTextHandler(&b, nil)))
}

func TestDiskReopenKeepsEntries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := OpenDisk(ctx, DiskConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		mustSet(t, d, fmt.Sprint(i), Entry{Value: []byte(fmt.Sprint("v", i))})
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = OpenDisk(ctx, DiskConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := range 20 {
		if got := mustGet(t, d, fmt.Sprint(i)); string(got.Value) != fmt.Sprint("v", i) {
			t.Fatalf("entry %d = %q", i, got.Value)
		}
	}
}

func TestDiskCorruptFileMovedAside(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, path string)
	}{
		{"not a database", func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.Repeat([]byte("garbage!"), 1024), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"damaged pages", func(t *testing.T, path string) {
			// A real cache with its pages past the header overwritten.
			d, err := OpenDisk(context.Background(), DiskConfig{Dir: filepath.Dir(path)})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 200 {
				mustSet(t, d, fmt.Sprint(i), Entry{Value: bytes.Repeat([]byte{'x'}, 500)})
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			info, _ := f.Stat()
			if info.Size() < 8192 {
				t.Fatalf("file is %d bytes; want several pages", info.Size())
			}
			if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, int(info.Size())-4096), 4096); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			tt.corrupt(t, path)
			logs, logOpt := logBuffer()
			d, err := OpenDisk(ctx, DiskConfig{Dir: dir}, logOpt)
			if err != nil {
				t.Fatalf("OpenDisk over a corrupt file = %v; want a fresh cache", err)
			}
			defer d.Close()
			if !strings.Contains(logs.String(), "corrupt cache file moved aside") {
				t.Fatalf("no warning logged; logs:\n%s", logs)
			}
			aside, _ := filepath.Glob(filepath.Join(dir, FileName+".corrupt-*"))
			if len(aside) == 0 {
				t.Fatalf("corrupt file not moved aside; dir has %v", ls(t, dir))
			}
			if st := d.Stats(); st.Entries != 0 {
				t.Fatalf("fresh cache has %d entries", st.Entries)
			}
			mustSet(t, d, "k", Entry{Value: []byte("v")})
			mustGet(t, d, "k")
		})
	}
}

func TestDiskOldFormatDiscarded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	// A file laid out by some other format version, with a row that a
	// misreading would return.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE entries (key TEXT PRIMARY KEY, value BLOB, size INTEGER, expires INTEGER, used INTEGER)`,
		`INSERT INTO entries VALUES ('k', 'old', 3, 0, 0)`,
		`PRAGMA user_version = 0`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	logs, logOpt := logBuffer()
	d, err := OpenDisk(ctx, DiskConfig{Dir: dir}, logOpt)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, ok, _ := d.Get(ctx, "k"); ok {
		t.Fatal("an entry of the old format was read")
	}
	if !strings.Contains(logs.String(), "another format") {
		t.Fatalf("no warning logged; logs:\n%s", logs)
	}
	mustSet(t, d, "k", Entry{Value: []byte("new")})
	if got := mustGet(t, d, "k"); string(got.Value) != "new" {
		t.Fatalf("Get = %q", got.Value)
	}
}

func TestDiskFullWritesFailQuietly(t *testing.T) {
	ctx := context.Background()
	logs, logOpt := logBuffer()
	d, err := OpenDisk(ctx, DiskConfig{Dir: t.TempDir()}, logOpt, optionFunc(func(o *options) { o.maxPageCount = 24 }))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	mustSet(t, d, "first", Entry{Value: []byte("v")})
	var failed int
	for i := range 100 {
		err := d.Set(ctx, fmt.Sprint(i), Entry{Value: bytes.Repeat([]byte{'x'}, 2000)})
		if err != nil {
			if !errors.Is(err, ErrWriteFailed) {
				t.Fatalf("Set = %v, want ErrWriteFailed", err)
			}
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no write failed on a full file")
	}
	st := d.Stats()
	if st.WriteErrors != int64(failed) {
		t.Fatalf("WriteErrors = %d, want %d", st.WriteErrors, failed)
	}
	if !strings.Contains(logs.String(), "write to disk cache failed") {
		t.Fatalf("no failure logged; logs:\n%s", logs)
	}
	mustGet(t, d, "first") // reads go on
}

func TestDiskEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	d, err := OpenDisk(ctx, DiskConfig{Dir: t.TempDir(), MaxSizeMB: 1}, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	value := bytes.Repeat([]byte{'x'}, 10_000)
	for i := range 80 { // 800 kB
		clk.advance(time.Second)
		mustSet(t, d, fmt.Sprint(i), Entry{Value: value})
	}
	// Use the ten oldest: they become the most recent.
	clk.advance(2 * time.Minute)
	for i := range 10 {
		mustGet(t, d, fmt.Sprint(i))
	}
	for i := 80; i < 120; i++ { // 400 kB more: over the cap
		clk.advance(time.Second)
		mustSet(t, d, fmt.Sprint(i), Entry{Value: value})
	}
	st := d.Stats()
	if st.Evictions == 0 || st.Bytes > 1<<20 {
		t.Fatalf("Stats = %+v; want evictions and at most 1 MiB", st)
	}
	for i := range 10 {
		if _, ok, _ := d.Get(ctx, fmt.Sprint(i)); !ok {
			t.Errorf("recently used entry %d was evicted", i)
		}
	}
	if _, ok, _ := d.Get(ctx, "10"); ok {
		t.Error("least recently used entry 10 was kept")
	}
	if _, ok, _ := d.Get(ctx, "119"); !ok {
		t.Error("newest entry was evicted")
	}
}

func ls(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
