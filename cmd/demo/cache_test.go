package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/cache"
)

func TestCacheCommand(t *testing.T) {
	dir := t.TempDir()
	d, err := cache.OpenDisk(context.Background(), cache.DiskConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if err := d.Set(context.Background(), k, cache.Entry{Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"-dir", dir}, 0, "2 entries"},
		{[]string{"-dir", dir, "stats"}, 0, "2 entries"},
		{[]string{"-dir", dir, "clear"}, 0, "Cleared"},
		{[]string{"-dir", dir}, 0, "0 entries"},
		{[]string{"-dir", dir, "bogus"}, 2, "usage"},
		{[]string{"-dir", dir, "stats", "clear"}, 2, "usage"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := cacheCommand(tt.args, &stdout, &stderr)
		out := stdout.String() + stderr.String()
		if code != tt.code || !strings.Contains(out, tt.contains) {
			t.Errorf("cache %v = %d, %q; want %d and %q", tt.args, code, out, tt.code, tt.contains)
		}
	}
}
