// Command cacheproc drives a disk cache from its own OS process, for the
// cache tests under test/: they kill it mid-write, reopen what it left, and
// run two at once on one directory.
//
// Usage:
//
//	cacheproc write -dir D -prefix P [-n N]       # writes P-0, P-1...; prints "committed i" after each
//	cacheproc check -dir D -prefix P -n N         # every P-i, i < N, reads back exactly
//	cacheproc share -dir D -self A -other B -n N  # writes A-i and shared-i, reads until all B-i are seen
//
// Every value is derived from its key (Value), so a misread is caught.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/dspex-go/dspex/cache"
)

// Value is the value stored under key: the key repeated to about 1 kB.
func Value(key string) []byte {
	return bytes.Repeat([]byte(key+";"), 1024/(len(key)+1)+1)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cacheproc write|check|share -dir D ...")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "", "cache directory")
	prefix := fs.String("prefix", "k", "key prefix (write, check)")
	self := fs.String("self", "a", "this process's key prefix (share)")
	other := fs.String("other", "b", "the other process's key prefix (share)")
	n := fs.Int("n", 0, "number of keys; 0 writes until killed")
	_ = fs.Parse(os.Args[2:])
	ctx := context.Background()
	d, err := cache.OpenDisk(ctx, cache.DiskConfig{Dir: *dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cacheproc:", err)
		os.Exit(1)
	}
	switch os.Args[1] {
	case "write":
		err = write(ctx, d, *prefix, *n)
	case "check":
		err = check(ctx, d, *prefix, *n)
	case "share":
		err = share(ctx, d, *self, *other, *n)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	err2 := d.Close()
	if err == nil {
		err = err2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cacheproc:", err)
		os.Exit(1)
	}
}

func write(ctx context.Context, d *cache.Disk, prefix string, n int) error {
	for i := 0; n == 0 || i < n; i++ {
		key := fmt.Sprintf("%s-%d", prefix, i)
		if err := d.Set(ctx, key, cache.Entry{Value: Value(key)}); err != nil {
			return err
		}
		// Unbuffered: the line is out before the next write starts.
		if _, err := fmt.Fprintf(os.Stdout, "committed %d\n", i); err != nil {
			return err
		}
	}
	return nil
}

func check(ctx context.Context, d *cache.Disk, prefix string, n int) error {
	for i := range n {
		key := fmt.Sprintf("%s-%d", prefix, i)
		if err := expect(ctx, d, key); err != nil {
			return err
		}
	}
	fmt.Printf("ok %d\n", n)
	return nil
}

// expect reads key back and checks its value.
func expect(ctx context.Context, d *cache.Disk, key string) error {
	e, ok, err := d.Get(ctx, key)
	switch {
	case err != nil:
		return fmt.Errorf("get %s: %w", key, err)
	case !ok:
		return fmt.Errorf("get %s: missing", key)
	case !bytes.Equal(e.Value, Value(key)):
		return fmt.Errorf("get %s: wrong value (%d bytes)", key, len(e.Value))
	}
	return nil
}

// share writes its own keys and the shared ones while reading the other
// process's, until it has written all its own and seen all the other's.
func share(ctx context.Context, d *cache.Disk, self, other string, n int) error {
	deadline := time.Now().Add(2 * time.Minute)
	seen := make([]bool, n)
	left := n
	for i := 0; i < n || left > 0; i++ {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of the other process's keys never appeared", left)
		}
		if i < n {
			for _, key := range []string{fmt.Sprintf("%s-%d", self, i), fmt.Sprintf("shared-%d", i)} {
				if err := d.Set(ctx, key, cache.Entry{Value: Value(key)}); err != nil {
					return err
				}
			}
		}
		for j := range n {
			if seen[j] {
				continue
			}
			key := fmt.Sprintf("%s-%d", other, j)
			e, ok, err := d.Get(ctx, key)
			if err != nil {
				return fmt.Errorf("get %s: %w", key, err)
			}
			if !ok {
				break // not written yet: look again after the next write
			}
			if !bytes.Equal(e.Value, Value(key)) {
				return fmt.Errorf("get %s: wrong value", key)
			}
			seen[j] = true
			left--
		}
		if i >= n {
			time.Sleep(time.Millisecond) // the other process is still writing
		}
	}
	for i := range n {
		for _, key := range []string{fmt.Sprintf("%s-%d", self, i), fmt.Sprintf("shared-%d", i)} {
			if err := expect(ctx, d, key); err != nil {
				return err
			}
		}
	}
	st := d.Stats()
	fmt.Printf("ok hits %d misses %d write errors %d\n", st.Hits, st.Misses, st.WriteErrors)
	return nil
}
