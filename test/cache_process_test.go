package test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/cache"
)

// cacheBuild builds the command pkg into a temporary directory of tb and
// returns the binary's path.
func cacheBuild(tb testing.TB, pkg string) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// cacheEnv is the environment of a child process: no provider key, no
// dspex settings, so that the demo serves its embedded simulator.
func cacheEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OPENAI_") || strings.HasPrefix(kv, "DSPEX_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

var simRequests = regexp.MustCompile(`(?m)^Embedded model server: (\d+) requests$`)

// TestCacheRerunMakesNoRequests runs cmd/demo's BootstrapFewShot then
// MIPROv2-light twice, in two processes sharing a cache dir: the second
// makes no request to its embedded model server and compiles the same
// programs.
func TestCacheRerunMakesNoRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cmd/demo twice")
	}
	bin := cacheBuild(t, "github.com/dspex-go/dspex/cmd/demo")
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	run := func(name string) (requests int, programs map[string][]byte) {
		t.Helper()
		save := filepath.Join(dir, name)
		if err := os.Mkdir(save, 0o700); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "-optimizer", "bootstrap,mipro", "-cache-dir", cacheDir, "-save", save, "-timeout", "4m")
		cmd.Env = cacheEnv()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: demo: %v\n%s", name, err, stderr.Bytes())
		}
		m := simRequests.FindSubmatch(out)
		if m == nil {
			t.Fatalf("%s: no simulator request count in the demo's output:\n%s", name, out)
		}
		requests, _ = strconv.Atoi(string(m[1]))
		programs = make(map[string][]byte)
		for _, opt := range []string{"bootstrap", "mipro"} {
			b, err := os.ReadFile(filepath.Join(save, opt+".json"))
			if err != nil {
				t.Fatal(err)
			}
			programs[opt] = b
		}
		return requests, programs
	}
	first, want := run("first")
	if first == 0 {
		t.Fatal("the first run made no request: nothing was exercised")
	}
	second, got := run("second")
	if second != 0 {
		t.Errorf("the second run made %d requests to the embedded server; want 0 (the first made %d)", second, first)
	}
	for opt, w := range want {
		if !bytes.Equal(got[opt], w) {
			t.Errorf("%s: the second run compiled another program:\nfirst:  %s\nsecond: %s", opt, w, got[opt])
		}
	}
	t.Logf("first run: %d requests; second run: %d", first, second)
}

// TestCacheSurvivesSIGKILL kills a process while it writes to the cache,
// several times, and checks in a new process that every entry whose write
// had returned reads back.
func TestCacheSurvivesSIGKILL(t *testing.T) {
	bin := cacheBuild(t, "github.com/dspex-go/dspex/test/internal/cacheproc")
	dir := t.TempDir()
	for round, killAfter := range []int{1, 60, 250} {
		prefix := fmt.Sprintf("r%d", round)
		cmd := exec.Command(bin, "write", "-dir", dir, "-prefix", prefix)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		committed := -1
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
				committed, _ = strconv.Atoi(n)
			}
			if committed+1 >= killAfter {
				break
			}
		}
		// The writer is in its next Set (or between two) when it dies.
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_, _ = bufio.NewReader(stdout).WriteTo(&bytes.Buffer{}) // drain what it printed before dying
		_ = cmd.Wait()
		if committed+1 < killAfter {
			t.Fatalf("round %d: the writer stopped after %d entries: %s", round, committed+1, stderr.Bytes())
		}
		out, err := exec.Command(bin, "check", "-dir", dir, "-prefix", prefix, "-n", strconv.Itoa(committed+1)).CombinedOutput()
		if err != nil {
			t.Fatalf("round %d: after SIGKILL at %d committed entries, a new process reads: %v\n%s", round, committed+1, err, out)
		}
	}
}

// TestCacheTwoProcessesShareDir runs two processes that write and read
// the same cache dir at once, each reading the other's entries while it
// writes; a third checks everything afterwards.
func TestCacheTwoProcessesShareDir(t *testing.T) {
	bin := cacheBuild(t, "github.com/dspex-go/dspex/test/internal/cacheproc")
	dir := t.TempDir()
	const n = 300
	var wg sync.WaitGroup
	for _, p := range [][2]string{{"a", "b"}, {"b", "a"}} {
		wg.Go(func() {
			out, err := exec.Command(bin, "share", "-dir", dir, "-self", p[0], "-other", p[1], "-n", strconv.Itoa(n)).CombinedOutput()
			if err != nil {
				t.Errorf("process %s: %v\n%s", p[0], err, out)
			}
		})
	}
	wg.Wait()
	for _, prefix := range []string{"a", "b", "shared"} {
		if out, err := exec.Command(bin, "check", "-dir", dir, "-prefix", prefix, "-n", strconv.Itoa(n)).CombinedOutput(); err != nil {
			t.Errorf("check %s: %v\n%s", prefix, err, out)
		}
	}
}

// TestCacheCorruptFileRunGoesOn starts a runtime over a corrupt cache
// file: it logs a warning, moves the file aside and runs with a fresh
// cache, which a second runtime then reads.
func TestCacheCorruptFileRunGoesOn(t *testing.T) {
	srv := rtSim(t)
	dir := t.TempDir()
	path := filepath.Join(dir, cache.FileName)
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 512), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := rtConfig(srv)
	cfg.Cache.Enabled, cfg.Cache.Persistent, cfg.Cache.Dir = true, true, dir
	ctx := context.Background()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	rt := rtStart(t, dspex.WithConfig(cfg), dspex.WithLogger(logger))
	req := rtAsk("What is the capital of France? (%d)", 1)
	if _, err := rt.LM("sim").Chat(ctx, req); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "corrupt cache file moved aside") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 1 {
		t.Errorf("corrupt file not moved aside: %v", aside)
	}
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}

	before := srv.Stats().Requests
	rt2 := rtStart(t, dspex.WithConfig(cfg), dspex.WithLogger(logger))
	resp, err := rt2.LM("sim").Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Cached || srv.Stats().Requests != before {
		t.Errorf("a new runtime did not answer from the fresh disk cache (cached %v, %d new requests)", resp.Cached, srv.Stats().Requests-before)
	}
	st, err := rt2.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Cache == nil || len(st.Cache.Tiers) != 2 || st.Cache.Tiers[1].Tier != "disk" || st.Cache.Tiers[1].Hits != 1 {
		t.Errorf("Status.Cache = %+v; want one disk hit", st.Cache)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (a logger).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
