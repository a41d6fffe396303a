package simlm_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dspex-go/dspex/simlm"
)

func TestFaultsAtRateOne(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults simlm.Faults
		check  func(t *testing.T, r chatReply, s spec)
	}{
		{"500", simlm.Faults{Rate500: 1}, func(t *testing.T, r chatReply, _ spec) {
			if r.status != 500 || !strings.Contains(string(r.raw), `"server_error"`) {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
		}},
		{"429", simlm.Faults{Rate429: 1, RetryAfter: 1500 * time.Millisecond}, func(t *testing.T, r chatReply, _ spec) {
			if r.status != 429 || r.header.Get("Retry-After") != "2" || r.header.Get("retry-after-ms") != "1500" {
				t.Fatalf("status %d headers %v", r.status, r.header)
			}
			var body struct {
				Error struct{ Type, Message string }
			}
			if err := json.Unmarshal(r.raw, &body); err != nil || body.Error.Message == "" {
				t.Fatalf("error body %s", r.raw)
			}
		}},
		{"429 without Retry-After", simlm.Faults{Rate429: 1}, func(t *testing.T, r chatReply, _ spec) {
			if r.status != 429 || r.header.Get("Retry-After") != "" {
				t.Fatalf("status %d headers %v", r.status, r.header)
			}
		}},
		{"garbled chat", simlm.Faults{RateGarbled: 1}, func(t *testing.T, r chatReply, _ spec) {
			if r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			if v, _ := parseChat(r.choices[0]); len(v) != 0 {
				t.Fatalf("garbled reply still parses: %q", r.choices[0])
			}
		}},
		{"garbled json", simlm.Faults{RateGarbled: 1}, func(t *testing.T, r chatReply, s spec) {
			var v map[string]any
			if err := json.Unmarshal([]byte(r.choices[0]), &v); err == nil {
				t.Fatalf("garbled JSON still parses: %q", r.choices[0])
			}
			if i := strings.IndexByte(r.choices[0], '{'); i < 0 || json.NewDecoder(strings.NewReader(r.choices[0][i:])).Decode(&v) == nil {
				t.Fatalf("garbled JSON holds an object: %q", r.choices[0])
			}
		}},
		{"timeout with max", simlm.Faults{RateTimeout: 1, TimeoutMax: time.Millisecond}, func(t *testing.T, r chatReply, _ spec) {
			if r.status != http.StatusGatewayTimeout {
				t.Fatalf("status %d", r.status)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := start(t, simlm.WithFaults(tc.faults))
			s := cot("What is the capital of France?")
			s.json = strings.Contains(tc.name, "json")
			for range 5 {
				tc.check(t, post(t, context.Background(), c, srv.URL(), s.request()), s)
			}
			st := srv.Stats()
			if st.Requests != 5 {
				t.Errorf("stats %+v", st)
			}
			if tc.faults.RateGarbled == 1 && st.Garbled != 5 {
				t.Errorf("garbled = %d", st.Garbled)
			}
			for _, l := range srv.Requests() {
				if l.Fault == "" {
					t.Errorf("request %d logged without its fault", l.Seq)
				}
			}
		})
	}
}

func TestHangUntilClientGoesAway(t *testing.T) {
	srv, c := start(t, simlm.WithFaults(simlm.Faults{RateTimeout: 1}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/chat/completions",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	_, err := c.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	// Close ends hanging handlers; the log then holds the abandoned request.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	logs := srv.Requests()
	if len(logs) != 1 || logs[0].Fault != "timeout" || (logs[0].Status != 499 && logs[0].Status != 503) {
		t.Fatalf("log %+v", logs)
	}
}

func TestFailNextAndScript(t *testing.T) {
	srv, c := start(t, simlm.WithFaults(simlm.Faults{RetryAfter: 3 * time.Second}))
	srv.FailNext(2, 503)
	srv.FailNext(1, 429)
	body := qa("What is the capital of Norway?").request()
	var got []int
	for range 4 {
		got = append(got, post(t, context.Background(), c, srv.URL(), body).status)
	}
	if want := []int{503, 503, 429, 200}; !equalInts(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	logs := srv.Requests()
	if logs[0].RetryAfter != 3*time.Second || logs[3].RetryAfter != 0 {
		t.Errorf("logged Retry-After %v / %v", logs[0].RetryAfter, logs[3].RetryAfter)
	}

	var calls atomic.Int64
	err := srv.SetFaults(simlm.Faults{Script: func(info simlm.RequestInfo) *simlm.Fault {
		calls.Add(1)
		if info.Model != "test-model" || info.Path != "/v1/chat/completions" || len(info.Body) == 0 {
			t.Errorf("info %+v", info)
		}
		if info.Seq%2 == 1 {
			return &simlm.Fault{Status: 502}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for range 4 {
		got = append(got, post(t, context.Background(), c, srv.URL(), body).status)
	}
	if want := []int{502, 200, 502, 200}; !equalInts(got, want) || calls.Load() != 4 {
		t.Fatalf("statuses %v, want %v (%d calls)", got, want, calls.Load())
	}
	st := srv.Stats()
	if st.ByStatus[502] != 2 || st.ByStatus[200] != 3 || st.ByStatus[503] != 2 {
		t.Errorf("by status %v", st.ByStatus)
	}
	srv.ResetStats()
	if st := srv.Stats(); st.Requests != 0 || len(st.ByStatus) != 0 || len(srv.Requests()) != 0 {
		t.Errorf("after reset %+v", st)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInvalidFaults(t *testing.T) {
	for _, f := range []simlm.Faults{{Rate500: 1.5}, {Rate429: -0.1}, {Latency: -time.Second}} {
		if _, err := simlm.Start(simlm.WithFaults(f)); err == nil {
			t.Errorf("Start accepted %+v", f)
		}
	}
	srv, _ := start(t)
	if err := srv.SetFaults(simlm.Faults{RateGarbled: 2}); err == nil {
		t.Error("SetFaults accepted a rate of 2")
	}
	if _, err := simlm.Start(simlm.WithKnowledge(1.2)); err == nil {
		t.Error("Start accepted knowledge 1.2")
	}
}

// TestPeakInFlight checks that latency does not serialise requests: 200
// concurrent requests held for 400ms each overlap, and the peak counter sees
// it (the latency is long so that a loaded machine, which may take a while
// to start 200 goroutines and connections, still overlaps them). This is a counter check, not a timing assertion; on a loaded machine
// a burst may be spread out, so up to five bursts are tried (the peak is
// the maximum over all of them).
func TestPeakInFlight(t *testing.T) {
	srv, c := start(t, simlm.WithLatency(400*time.Millisecond))
	body := qa("What is the capital of Spain?").request()
	var ok atomic.Int64
	burst := func() {
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				if post(t, context.Background(), c, srv.URL(), body).status == 200 {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
	}
	// A first burst opens the connections (the client keeps them idle), so
	// the measured bursts are not paced by connection setup.
	burst()
	srv.ResetStats()
	ok.Store(0)
	bursts := 0
	for bursts < 5 && (bursts == 0 || srv.Stats().MaxInFlight < 100) {
		burst()
		bursts++
	}
	st := srv.Stats()
	t.Logf("peak in-flight: %d after %d bursts", st.MaxInFlight, bursts)
	if ok.Load() != int64(200*bursts) || st.Requests != int64(200*bursts) || st.InFlight != 0 {
		t.Fatalf("ok %d, stats %+v", ok.Load(), st)
	}
	if st.MaxInFlight < 100 {
		t.Fatalf("peak in-flight %d, want >= 100", st.MaxInFlight)
	}
}

// TestInFlightCounter holds requests in a script until 150 are in flight,
// so the counters are checked without any timing.
func TestInFlightCounter(t *testing.T) {
	const n = 150
	var arrived atomic.Int64
	gate := make(chan struct{})
	srv, c := start(t, simlm.WithFaults(simlm.Faults{Script: func(simlm.RequestInfo) *simlm.Fault {
		if arrived.Add(1) == n {
			close(gate)
		}
		<-gate
		return nil
	}}))
	body := qa("What is the capital of Spain?").request()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { post(t, context.Background(), c, srv.URL(), body) })
	}
	wg.Wait()
	if st := srv.Stats(); st.MaxInFlight != n || st.InFlight != 0 || st.ByStatus[200] != n {
		t.Fatalf("stats %+v", st)
	}
}

func TestCloseIdempotentAndEndsLatency(t *testing.T) {
	arrived := make(chan struct{})
	var once sync.Once
	srv, err := simlm.Start(simlm.WithFaults(simlm.Faults{Latency: time.Hour, Script: func(simlm.RequestInfo) *simlm.Fault {
		once.Do(func() { close(arrived) })
		return nil
	}}))
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	done := make(chan int)
	go func() {
		resp, err := c.Post(srv.URL()+"/chat/completions", "application/json",
			strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-arrived // the request is now in its hour-long latency
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if st := <-done; st != 503 {
		t.Fatalf("status %d", st)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := srv.Start(); !errors.Is(err, simlm.ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
}

func TestUnstartedHandler(t *testing.T) {
	srv, err := simlm.NewServer(simlm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if srv.URL() != "" {
		t.Fatalf("URL before Start = %q", srv.URL())
	}
	rec := newRecorder()
	req, _ := http.NewRequest(http.MethodGet, "/v1/models", nil)
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), simlm.DefaultModel) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if srv.Stats().Requests != 1 {
		t.Fatal("handler requests are not counted")
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
}
