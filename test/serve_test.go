package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/simlm"
)

// serveBinary builds cmd/serve once per test run.
var serveBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "dspex-serve")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "serve")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/dspex-go/dspex/cmd/serve").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// serveProc is a running cmd/serve process.
type serveProc struct {
	cmd   *exec.Cmd
	url   string
	lines chan string // stdout after the first line
	done  chan error
}

// startServe runs cmd/serve as its own process against srv, serving a
// ChainOfThought "qa" whose state is a DSPy-format file, and a Predict
// "typed" with an int input.
func startServe(t *testing.T, srv *simlm.Server, extra ...string) *serveProc {
	t.Helper()
	bin, err := serveBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`providers:
  - name: sim
    base_url: %s
    api_key: sk-serve-test
    default_model: %s
retry:
  max_attempts: 1
cache:
  enabled: false
breaker:
  enabled: true
  consecutive_failures: 2
  timeout: 1m
`, srv.URL(), srv.Model())
	cfgFile := filepath.Join(dir, "dspex.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// The DSPy-format state of a ChainOfThought, as program.save() writes.
	sig := signature.MustParse("question -> answer")
	cot, err := programs.NewChainOfThoughtFrom(sig.WithInstructions("Answer questions with short factoid answers."))
	if err != nil {
		t.Fatal(err)
	}
	var state bytes.Buffer
	if err := programs.SaveDSPy(&state, cot); err != nil {
		t.Fatal(err)
	}
	stateFile := filepath.Join(dir, "qa.json")
	if err := os.WriteFile(stateFile, state.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-addr", "127.0.0.1:0", "-config", cfgFile, "-lm", "sim",
		"-program", "qa=cot:question -> answer", "-state", "qa=" + stateFile,
		"-program", "typed=predict:question: str, k: int -> answer",
		"-max-body", "4096"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, lines: make(chan string, 16), done: make(chan error, 1)}
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		_ = cmd.Process.Kill()
		t.Fatalf("serve printed nothing: %v", cmd.Wait())
	}
	line := sc.Text()
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("serve said %q", line)
	}
	p.url = line[i:]
	go func() {
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait() // after the last read of stdout
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

func postJSON(t *testing.T, c *http.Client, url, contentType, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	return doJSON(t, c, http.MethodPost, url, contentType, body, header...)
}

// doJSON makes a request whose reply must be a JSON object.
func doJSON(t *testing.T, c *http.Client, method, url, contentType, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("reply %q is not a JSON object: %v", raw, err)
	}
	return resp, v
}

func TestServeProcess(t *testing.T) {
	srv := rtSim(t, simlm.WithChunkLatency(time.Millisecond))
	p := startServe(t, srv)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	t.Run("list and OpenAPI", func(t *testing.T) {
		resp, err := c.Get(p.url + "/v1/programs")
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Programs []struct {
				Name, Signature, Instructions string
			}
		}
		_ = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if len(list.Programs) != 2 || list.Programs[0].Name != "qa" ||
			list.Programs[0].Signature != "question: str -> reasoning: str, answer: str" ||
			list.Programs[0].Instructions != "Answer questions with short factoid answers." {
			t.Errorf("programs %+v", list.Programs)
		}
		resp, err = c.Get(p.url + "/v1/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		paths, _ := doc["paths"].(map[string]any)
		if doc["openapi"] != "3.0.3" || paths["/v1/programs/typed"] == nil {
			t.Errorf("OpenAPI document %v", doc)
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			if resp, err := c.Get(p.url + path); err != nil || resp.StatusCode != 200 {
				t.Errorf("GET %s: %v %v", path, resp, err)
			} else {
				resp.Body.Close()
			}
		}
	})

	t.Run("DSPy program answers", func(t *testing.T) {
		resp, v := postJSON(t, c, p.url+"/v1/programs/qa", "application/json", `{"question": "Who wrote Hamlet?"}`)
		outs, _ := v["outputs"].(map[string]any)
		usage, _ := v["usage"].(map[string]any)
		if resp.StatusCode != 200 || !strings.Contains(fmt.Sprint(outs["answer"]), "Shakespeare") ||
			outs["reasoning"] == "" || usage["total_tokens"] == 0.0 {
			t.Errorf("%d %v", resp.StatusCode, v)
		}
	})

	t.Run("SSE with a plain client", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, p.url+"/v1/programs/qa", strings.NewReader(`{"question": "Who wrote Hamlet?"}`))
		req.Header.Set("Accept", "text/event-stream")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("Content-Type %q", ct)
		}
		fields := map[string]string{}
		var kinds []string
		var final map[string]any
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
				if len(kinds) == 0 || kinds[len(kinds)-1] != event {
					kinds = append(kinds, event)
				}
			case strings.HasPrefix(line, "data: "):
				var d map[string]any
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &d); err != nil {
					t.Fatalf("data %q: %v", line, err)
				}
				switch event {
				case "chunk":
					fields[d["field"].(string)] += d["text"].(string)
				case "prediction":
					final = d
				case "error":
					t.Fatalf("error event %v", d)
				}
			}
		}
		if strings.Join(kinds, ",") != "chunk,prediction" || final == nil {
			t.Fatalf("events %v", kinds)
		}
		outs := final["outputs"].(map[string]any)
		if fields["answer"] != outs["answer"] || fields["reasoning"] != outs["reasoning"] {
			t.Errorf("chunks %q, prediction %v", fields, outs)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		qa, typed := p.url+"/v1/programs/qa", p.url+"/v1/programs/typed"
		tests := []struct {
			name, url, contentType, body string
			status                       int
			code, field                  string
			method                       string // "" is POST
		}{
			{"not JSON", qa, "application/json", "hello", 400, "not_json", "", ""},
			{"empty body", qa, "application/json", "", 400, "not_json", "", ""},
			{"an array", qa, "application/json", `["Who wrote Hamlet?"]`, 400, "not_json", "", ""},
			{"trailing data", qa, "application/json", `{"question": "x"} {}`, 400, "not_json", "", ""},
			{"missing input", qa, "application/json", `{}`, 400, "missing_input", "question", ""},
			{"null input", qa, "application/json", `{"question": null}`, 400, "missing_input", "question", ""},
			{"wrong type string", qa, "application/json", `{"question": 42}`, 400, "wrong_type", "question", ""},
			{"wrong type int", typed, "application/json", `{"question": "x", "k": 1.5}`, 400, "wrong_type", "k", ""},
			{"int as string", typed, "application/json", `{"question": "x", "k": "2"}`, 400, "wrong_type", "k", ""},
			{"unknown field", qa, "application/json", `{"question": "x", "quesiton": "y"}`, 400, "unknown_field", "quesiton", ""},
			{"body too large", qa, "application/json", `{"question": "` + strings.Repeat("x", 5000) + `"}`, 413, "body_too_large", "", ""},
			{"not a JSON content type", qa, "text/plain", `{"question": "x"}`, 415, "unsupported_media_type", "", ""},
			{"unknown program", p.url + "/v1/programs/nope", "application/json", `{"question": "x"}`, 404, "not_found", "", ""},
			{"a JSON string", qa, "application/json", `"Who wrote Hamlet?"`, 400, "not_json", "", ""},
			{"wrong type bool", typed, "application/json", `{"question": "x", "k": true}`, 400, "wrong_type", "k", ""},
			{"int too large", typed, "application/json", `{"question": "x", "k": 1e400}`, 400, "wrong_type", "k", ""},
			{"unknown endpoint", p.url + "/v1/prgrams/qa", "application/json", `{"question": "x"}`, 404, "not_found", "", ""},
			{"GET a program", qa, "", "", 405, "method_not_allowed", "", http.MethodGet},
			{"malformed Content-Type", qa, "application/json; charset", `{"question": "x"}`, 415, "unsupported_media_type", "", ""},
		}
		before := srv.Stats().Requests
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				method := tc.method
				if method == "" {
					method = http.MethodPost
				}
				resp, v := doJSON(t, c, method, tc.url, tc.contentType, tc.body)
				e, _ := v["error"].(map[string]any)
				if resp.StatusCode != tc.status || e["code"] != tc.code || (e["field"] != nil && e["field"] != tc.field) ||
					(tc.field != "" && e["field"] != tc.field) || e["message"] == "" {
					t.Errorf("%d %v, want %d %s naming %q", resp.StatusCode, v, tc.status, tc.code, tc.field)
				}
			})
		}
		if n := srv.Stats().Requests - before; n != 0 {
			t.Errorf("bad requests reached the LM %d times", n)
		}
	})

	t.Run("client going away cancels the LM call", func(t *testing.T) {
		_ = srv.SetFaults(simlm.Faults{ChunkLatency: time.Hour, ChunkTokens: 16})
		defer func() { _ = srv.SetFaults(simlm.Faults{ChunkLatency: time.Millisecond}) }()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/v1/programs/qa", strings.NewReader(`{"question": "What is the capital of France?"}`))
		req.Header.Set("Accept", "text/event-stream")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() && !strings.HasPrefix(sc.Text(), "data: ") {
		}
		cancel()
		resp.Body.Close()
		if err := srv.WaitIdle(rtCtx(t)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("LM failure then open breaker", func(t *testing.T) {
		_ = srv.SetFaults(simlm.Faults{Rate500: 1})
		defer func() { _ = srv.SetFaults(simlm.Faults{}) }()
		body := `{"question": "What is the capital of Peru?"}`
		var statuses []int
		var retry string
		for range 3 {
			resp, v := postJSON(t, c, p.url+"/v1/programs/qa", "application/json", body)
			statuses = append(statuses, resp.StatusCode)
			if e, _ := v["error"].(map[string]any); e["code"] == "" {
				t.Errorf("error body %v", v)
			}
			retry = resp.Header.Get("Retry-After")
		}
		if fmt.Sprint(statuses) != "[502 502 503]" || retry != "60" {
			t.Errorf("statuses %v, Retry-After %q; want [502 502 503] and 60", statuses, retry)
		}
	})
}

// TestServeDrainsOnSIGTERM sends SIGTERM while calls are in flight: every
// accepted call completes with its answer, readiness turns 503, new calls
// are refused, and the process exits cleanly.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	const n = 24
	arrived := make(chan struct{}, n)
	srv := rtSim(t, simlm.WithFaults(simlm.Faults{Latency: 300 * time.Millisecond, Script: func(simlm.RequestInfo) *simlm.Fault {
		arrived <- struct{}{}
		return nil
	}}))
	p := startServe(t, srv)
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	type result struct {
		status int
		answer string
		err    error
	}
	results := make(chan result, n)
	for i := range n {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, p.url+"/v1/programs/typed",
				strings.NewReader(fmt.Sprintf(`{"question": "What is the capital of France?", "k": %d}`, i)))
			resp, err := c.Do(req)
			if err != nil {
				results <- result{err: err}
				return
			}
			defer resp.Body.Close()
			var v struct{ Outputs map[string]any }
			err = json.NewDecoder(resp.Body).Decode(&v)
			results <- result{status: resp.StatusCode, answer: fmt.Sprint(v.Outputs["answer"]), err: err}
		}()
	}
	for range n { // every call has reached the LM: all are in flight
		select {
		case <-arrived:
		case <-time.After(30 * time.Second):
			t.Fatal("the calls never reached the simulator")
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range n {
		r := <-results
		if r.err != nil || r.status != 200 || !strings.Contains(r.answer, "Paris") {
			t.Errorf("call during drain: %d %q %v", r.status, r.answer, r.err)
		}
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("serve exited with %v", err)
		}
		p.done <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after draining")
	}
	if last := <-p.lines; last != "drained" {
		t.Errorf("serve did not report draining: %q", last)
	}
	if _, err := c.Post(p.url+"/v1/programs/typed", "application/json", strings.NewReader(`{"question": "x", "k": 1}`)); err == nil {
		t.Error("a call after shutdown was accepted")
	}
}

// TestServeMetricsAndBudget runs cmd/serve with -metrics, a server-wide
// budget of 3 LM calls and a per-request budget of 1: a call that needs a
// second LM call (the JSON fallback after a garbled reply) gets 422, the
// call after the third LM call gets 503 with Retry-After without reaching
// the LM, and /metrics shows the LM calls, their tokens and the HTTP
// requests by status, and never the API key.
func TestServeMetricsAndBudget(t *testing.T) {
	srv := rtSim(t)
	p := startServe(t, srv, "-metrics", "-budget", "calls=3", "-request-budget", "calls=1")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	typed := p.url + "/v1/programs/typed"

	call := func(question string, k int) (*http.Response, map[string]any) {
		return postJSON(t, c, typed, "application/json", fmt.Sprintf(`{"question": %q, "k": %d}`, question, k))
	}
	if resp, v := call("What is the capital of France?", 1); resp.StatusCode != 200 {
		t.Fatalf("first call: %d %v", resp.StatusCode, v)
	}

	_ = srv.SetFaults(simlm.Faults{RateGarbled: 1})
	resp, v := call("What is the capital of Peru?", 2)
	_ = srv.SetFaults(simlm.Faults{})
	e, _ := v["error"].(map[string]any)
	if resp.StatusCode != 422 || e["code"] != "request_budget_exceeded" || resp.Header.Get("Retry-After") != "" ||
		!strings.Contains(fmt.Sprint(e["message"]), "calls") {
		t.Errorf("a call over the per-request budget: %d %v (Retry-After %q)", resp.StatusCode, v, resp.Header.Get("Retry-After"))
	}

	if resp, v := call("What is the capital of Spain?", 3); resp.StatusCode != 200 {
		t.Fatalf("third LM call: %d %v", resp.StatusCode, v)
	}
	before := srv.Stats().Requests
	resp, v = call("What is the capital of Italy?", 4)
	e, _ = v["error"].(map[string]any)
	if resp.StatusCode != 503 || e["code"] != "budget_exceeded" || resp.Header.Get("Retry-After") != "60" ||
		!strings.Contains(fmt.Sprint(e["message"]), "3 of 3 calls") {
		t.Errorf("a call after the budget is spent: %d %v (Retry-After %q)", resp.StatusCode, v, resp.Header.Get("Retry-After"))
	}
	if n := srv.Stats().Requests - before; n != 0 {
		t.Errorf("a call over the budget reached the LM %d times", n)
	}

	mresp, err := c.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	scrape := string(raw)
	if mresp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", mresp.StatusCode, scrape)
	}
	// sample sums the values of the samples of a metric whose labels
	// include every one of labels.
	sample := func(name string, labels ...string) (sum float64, found bool) {
		for _, line := range strings.Split(scrape, "\n") {
			rest, ok := strings.CutPrefix(line, name+"{")
			if !ok {
				continue
			}
			lbls, val, ok := strings.Cut(rest, "} ")
			if !ok {
				continue
			}
			all := true
			for _, l := range labels {
				all = all && strings.Contains(lbls, l)
			}
			if !all {
				continue
			}
			var x float64
			if _, err := fmt.Sscan(val, &x); err == nil {
				sum += x
				found = true
			}
		}
		return sum, found
	}
	st := srv.Stats()
	for _, c := range []struct {
		name   string
		labels []string
		want   float64 // -1: any positive value
	}{
		{"dspex_lm_requests_total", []string{`dspex_provider="sim"`}, -1},
		{"dspex_lm_attempts_total", nil, float64(st.Requests)},
		{"gen_ai_client_token_usage_sum", []string{`gen_ai_token_type="input"`}, float64(st.PromptTokens)},
		{"gen_ai_client_token_usage_sum", []string{`gen_ai_token_type="output"`}, float64(st.CompletionTokens)},
		{"http_server_request_duration_seconds_count", []string{`http_route="/v1/programs/{name}"`, `http_response_status_code="200"`}, 2},
		{"http_server_request_duration_seconds_count", []string{`http_response_status_code="422"`}, 1},
		{"http_server_request_duration_seconds_count", []string{`http_response_status_code="503"`}, 1},
		{"http_server_active_requests", []string{`http_request_method="POST"`}, 0},
	} {
		got, found := sample(c.name, c.labels...)
		if !found || (c.want >= 0 && got != c.want) || (c.want < 0 && got <= 0) {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, found, c.want)
		}
	}
	if strings.Contains(scrape, "sk-serve-test") {
		t.Error("the API key is in the metrics")
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", scrape)
	}
}
