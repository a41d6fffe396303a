// Command bench compares the throughput of a typed Predict running on the
// dspex runtime with raw go-openai calls, against the embedded simulator.
//
// For each concurrency it sends the same number of requests twice: once
// through github.com/sashabaranov/go-openai directly (with the very
// messages the Chat adapter builds, so the simulator does the same work),
// and once through programs.Predict on Runtime.LM — client actor, cache,
// breaker, rate limiter and retries included. Every request is distinct (a
// unique question and rollout id), so the response cache never answers and
// cannot make the runtime look fast. It prints both throughputs and their
// ratio.
//
// -telemetry lists telemetry modes to compare, each on its own runtime:
// "off" (the default configuration: no exporter, so no-op providers),
// "noop" (the OpenTelemetry SDK records every span and metric and hands
// them to an exporter that discards them: the full cost of instrumentation
// without I/O), and "stdout" (the stdout exporter, writing JSON to
// -telemetry-out); "traces" and "metrics" are "noop" with one signal
// only. -rounds repeats each measurement, alternating the order of the
// modes, and reports the median of each; a line under each concurrency
// gives the spread of the ratios over the rounds, each ratio taken within
// one round.
//
// The runtime's response cache stores every response, and a fresh cache
// grows as it fills: its memory tier doubles its shards, and each write
// touches memory the process has not used before. -cache-mb caps the tier
// and fills it before timing, to measure the runtime once its cache has
// stopped growing.
//
// Usage:
//
//	go run ./cmd/bench -n 4000 -latency 50ms -conc 64,256,1024
//	go run ./cmd/bench -n 4000 -latency 50ms -conc 64,256,1024 -telemetry off,noop -rounds 3
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/internal/benchkit"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/telemetry"
)

// question and answer are the benchmark's signature: "question -> answer".
type question struct {
	Question string `dspy:"question"`
}

type answer struct {
	Answer string `dspy:"answer"`
}

func main() {
	n := flag.Int("n", 4000, "requests per run")
	latency := flag.Duration("latency", 50*time.Millisecond, "simulator latency per request")
	concList := flag.String("conc", "64,256,1024", "comma-separated concurrencies")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file; each path's goroutines carry the label path (raw, rt <mode>): go tool pprof -tags")
	mutexProfile := flag.String("mutexprofile", "", "write a profile of contended mutexes over the whole run to this file: every contention event is sampled, which slows contended unlocks, so the run's figures are not comparable with an unprofiled run's")
	telList := flag.String("telemetry", "off", "comma-separated telemetry modes to compare: off, noop, stdout, traces, metrics")
	telOut := flag.String("telemetry-out", "", "file the stdout telemetry mode writes to (default: discarded)")
	rounds := flag.Int("rounds", 1, "measurements per mode and concurrency; the median is reported")
	inflight := flag.Int("inflight", 0, "also measure memory per in-flight request with this many requests in flight (e.g. 10000); 0: skip")
	inflightLatency := flag.Duration("inflight-latency", 20*time.Second, "simulator latency while measuring memory per in-flight request")
	hits := flag.Int("hits", 20000, "cache hits to time through a typed Predict; 0: skip")
	cacheMB := flag.Int("cache-mb", 0, "cap the runtime's memory cache tier at this many megabytes and fill it before timing, to measure a cache that no longer grows; 0: the default tier (64 MB), which grows as the bench runs")
	inproc := flag.Bool("inproc", false, "serve the simulator in this process (default: a child process, so CPU, allocations and memory are the client's alone)")
	serve := flag.Duration("serve-sim", -1, "internal: serve the simulator at this latency and print its URL")
	child := flag.String("inflight-child", "", "internal: hold -inflight requests of this path (raw or rt) in flight against -inflight-url and print what they hold")
	childURL := flag.String("inflight-url", "", "internal: the simulator of -inflight-child")
	frames := flag.Bool("frames", false, "print the stack frames one request in flight holds on its caller's goroutine, raw and runtime, and exit")
	memProfile := flag.String("inflight-memprofile", "", "write a heap profile of the requests in flight to this file, suffixed .raw and .rt, one per path")
	maxStack := flag.Int("inflight-maxstack", 0, "internal: with -inflight-child, make one call first, then cap goroutine stacks at this many bytes (runtime/debug.SetMaxStack) before holding the requests in flight")
	flag.Parse()
	if *child != "" {
		if err := inFlightMain(*child, *childURL, *inflight, *memProfile, *maxStack); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *serve >= 0 {
		if err := serveSim(*serve); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *frames {
		if err := printFrames(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if *mutexProfile != "" {
		runtime.SetMutexProfileFraction(1)
		defer writeProfile("mutex", *mutexProfile)
	}
	concs, err := parseConcs(*concList)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	modes, err := parseModes(*telList)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if *rounds < 1 {
		fmt.Fprintln(os.Stderr, "bench: -rounds must be at least 1")
		os.Exit(2)
	}
	var out io.Writer = io.Discard
	if *telOut != "" {
		f, err := os.Create(*telOut)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer f.Close()
		out = f
	}
	b := bench{n: *n, latency: *latency, concs: concs, modes: modes, rounds: *rounds, telOut: out,
		inflight: *inflight, inflightLatency: *inflightLatency, memProfile: *memProfile, hits: *hits, inproc: *inproc,
		cacheMB: *cacheMB}
	if err := b.run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if *mutexProfile != "" {
			writeProfile("mutex", *mutexProfile) // os.Exit skips the deferred write
		}
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// writeProfile writes the named runtime/pprof profile to file, reporting
// a failure on stderr.
func writeProfile(name, file string) {
	f, err := os.Create(file)
	if err == nil {
		err = pprof.Lookup(name).WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %s profile: %v\n", name, err)
	}
}

func parseConcs(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			return nil, fmt.Errorf("bad concurrency %q", f)
		}
		out = append(out, c)
	}
	return out, nil
}

// Telemetry modes.
const (
	modeOff    = "off"
	modeNoop   = "noop"
	modeStdout = "stdout"
	// modeTraces and modeMetrics are noop with traces or metrics only.
	modeTraces  = "traces"
	modeMetrics = "metrics"
)

func parseModes(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		m := strings.TrimSpace(f)
		switch m {
		case modeOff, modeNoop, modeStdout, modeTraces, modeMetrics:
		default:
			return nil, fmt.Errorf("bad telemetry mode %q (want off, noop or stdout)", f)
		}
		if slices.Contains(out, m) {
			return nil, fmt.Errorf("telemetry mode %q given twice", m)
		}
		out = append(out, m)
	}
	return out, nil
}

// startRuntime starts a runtime on cfg with the telemetry of mode.
func startRuntime(ctx context.Context, cfg config.Config, mode string, out io.Writer) (*dspex.Runtime, error) {
	opts := []dspex.Option{}
	switch mode {
	case modeNoop:
		opts = append(opts, dspex.WithTelemetry(
			telemetry.WithSpanExporter(benchkit.DiscardSpans{}),
			telemetry.WithMetricReader(sdkmetric.NewPeriodicReader(benchkit.DiscardMetrics{}, sdkmetric.WithInterval(time.Second))),
		))
	case modeTraces:
		opts = append(opts, dspex.WithTelemetry(telemetry.WithSpanExporter(benchkit.DiscardSpans{})))
	case modeMetrics:
		opts = append(opts, dspex.WithTelemetry(
			telemetry.WithMetricReader(sdkmetric.NewPeriodicReader(benchkit.DiscardMetrics{}, sdkmetric.WithInterval(time.Second)))))
	case modeStdout:
		cfg.Telemetry.Exporter = config.ExporterStdout
		opts = append(opts, dspex.WithTelemetry(telemetry.WithWriter(out), telemetry.WithMetricInterval(time.Second)))
	}
	return dspex.Start(ctx, append(opts, dspex.WithConfig(cfg))...)
}

// bench is one run of the command.
type bench struct {
	n               int
	latency         time.Duration
	concs           []int
	modes           []string
	rounds          int
	telOut          io.Writer
	inflight        int
	inflightLatency time.Duration
	memProfile      string // -inflight-memprofile
	hits            int
	inproc          bool
	cacheMB         int // -cache-mb
}

// simulator serves the simulator at latency: in a child process running
// this command with -serve-sim, unless b.inproc. stop ends it.
func (b *bench) simulator(latency time.Duration) (url string, stop func(), err error) {
	if b.inproc {
		srv, err := simlm.Start(simlm.WithLatency(latency), simlm.WithAddr("127.0.0.1:0"))
		if err != nil {
			return "", nil, err
		}
		return srv.URL(), func() { _ = srv.Close() }, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(exe, "-serve-sim", latency.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = stdin.Close() // the child stops at the end of its input
		_ = cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("simulator process: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

// serveSim is the child process of simulator: it serves the simulator on
// 127.0.0.1, prints its URL and serves until its input ends.
func serveSim(latency time.Duration) error {
	benchkit.RaiseFileLimit()
	srv, err := simlm.Start(simlm.WithLatency(latency), simlm.WithAddr("127.0.0.1:0"))
	if err != nil {
		return err
	}
	fmt.Println(srv.URL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return srv.Close()
}

// rawClient returns a go-openai client for url with a connection pool as
// large as the runtime's, and its transport.
func rawClient(url string) (*openai.Client, *http.Transport) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = 2048
	occ := openai.DefaultConfig("sk-bench")
	occ.BaseURL = url
	occ.HTTPClient = &http.Client{Transport: tr}
	return openai.NewClientWithConfig(occ), tr
}

// newPaths builds the calls the bench compares.
func newPaths() (*paths, error) {
	sig, err := signature.Of[question, answer]()
	if err != nil {
		return nil, err
	}
	ps := &paths{sig: sig, chat: adapter.NewChat()}
	for _, it := range dataset.QA() {
		ps.questions = append(ps.questions, it.Question)
	}
	return ps, nil
}

// paths builds the calls the bench compares.
type paths struct {
	sig       signature.Signature
	chat      adapter.Chat
	questions []string     // of dataset.QA, built once: not per call, on either path
	seq       atomic.Int64 // rollout ids
}

func (p *paths) question(tag string, i int) string {
	return fmt.Sprintf("%s (%s request %d)", p.questions[i%len(p.questions)], tag, i)
}

// rawCall is a call of raw go-openai with the very messages the Chat
// adapter builds, parsed by the Chat adapter.
func (p *paths) rawCall(raw *openai.Client, tag string) func(context.Context, int) error {
	return func(ctx context.Context, i int) error {
		req, err := p.chat.Format(p.sig, nil, adapter.Values{"question": p.question(tag, i)})
		if err != nil {
			return err
		}
		msgs := make([]openai.ChatCompletionMessage, len(req.Messages))
		for j, m := range req.Messages {
			msgs[j] = openai.ChatCompletionMessage{Role: string(m.Role), Content: m.Content}
		}
		resp, err := raw.CreateChatCompletion(ctx, openai.ChatCompletionRequest{Model: simlm.DefaultModel, Messages: msgs})
		if err != nil {
			return err
		}
		if len(resp.Choices) == 0 {
			return errors.New("no choices")
		}
		_, err = p.chat.Parse(p.sig, resp.Choices[0].Message.Content)
		return err
	}
}

// predictCall is a call of a typed Predict on the runtime.
func (p *paths) predictCall(predict *programs.Predict[question, answer], tag string) func(context.Context, int) error {
	return func(ctx context.Context, i int) error {
		_, err := predict.Call(ctx, question{Question: p.question(tag, i)}, programs.WithRollout(int(p.seq.Add(1))))
		return err
	}
}

// runtimeFor starts a runtime serving the simulator at url under the
// provider name "sim", with its typed Predict.
func (b *bench) runtimeFor(ctx context.Context, url, mode string) (*dspex.Runtime, *programs.Predict[question, answer], error) {
	cfg := config.Default()
	cfg.Providers = []config.Provider{{Name: "sim", BaseURL: url, APIKey: "sk-bench", DefaultModel: simlm.DefaultModel}}
	cfg.Concurrency = 0 // no cap: measure the runtime, not a limit
	if b.cacheMB > 0 {
		// Shards sized to the cap from the start, so the tier never grows.
		cfg.Cache.MaxSizeMB, cfg.Cache.MaxEntries = b.cacheMB, b.cacheMB<<10
	}
	rt, err := startRuntime(ctx, cfg, mode, b.telOut)
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry %s: %w", mode, err)
	}
	p, err := programs.NewPredict[question, answer](programs.WithLM(rt.LM("sim")))
	if err != nil {
		_ = rt.Close(ctx)
		return nil, nil, err
	}
	return rt, p, nil
}

func (b *bench) run() error {
	benchkit.RaiseFileLimit()
	url, stop, err := b.simulator(b.latency)
	if err != nil {
		return err
	}
	defer stop()
	raw, tr := rawClient(url)
	defer tr.CloseIdleConnections()
	ps, err := newPaths()
	if err != nil {
		return err
	}

	// Runtime path: typed Predict on the runtime's LM, one runtime per
	// telemetry mode.
	ctx := context.Background()
	rts := make([]*dspex.Runtime, len(b.modes))
	predicts := make([]*programs.Predict[question, answer], len(b.modes))
	// Each path's calls run under its own profiler label, which the
	// goroutines they start (connections, actor mailboxes) inherit: a
	// -cpuprofile tells the paths apart (go tool pprof -tags, -tagfocus
	// path=raw). modeCtx carries each mode's.
	rawCtx := pprof.WithLabels(ctx, pprof.Labels("path", "raw"))
	modeCtx := make([]context.Context, len(b.modes))
	for i, mode := range b.modes {
		// The runtime starts under the mode's label too, so that the
		// goroutines it starts (actors, the span batcher, the metric
		// reader) carry it.
		var (
			rt  *dspex.Runtime
			p   *programs.Predict[question, answer]
			err error
		)
		pprof.Do(ctx, pprof.Labels("path", "rt "+mode), func(ctx context.Context) {
			modeCtx[i] = ctx
			rt, p, err = b.runtimeFor(ctx, url, mode)
			if err == nil && b.cacheMB > 0 {
				// Four requests per KiB of the tier: more than it holds,
				// as a stored response takes more than 256 bytes.
				if _, ferr := drive(ctx, b.cacheMB<<12, 256, ps.predictCall(p, "fill-"+mode)); ferr != nil {
					err = fmt.Errorf("filling the cache (telemetry %s): %w", mode, ferr)
				}
			}
		})
		if err != nil {
			if rt != nil {
				_ = rt.Close(ctx)
			}
			return err
		}
		defer rt.Close(ctx)
		rts[i], predicts[i] = rt, p
	}

	where := "in a child process: CPU, allocations and memory are the client's alone"
	if b.inproc {
		where = "in this process: CPU and allocations include the server's"
	}
	fmt.Printf("dspex bench: n=%d latency=%v GOMAXPROCS=%d rounds=%d; every request distinct (unique question and rollout id): the cache never answers; simulator %s\n",
		b.n, b.latency, runtime.GOMAXPROCS(0), b.rounds, where)
	if b.cacheMB > 0 {
		fmt.Printf("the runtime's memory cache tier is capped at %d MB and was filled before timing: each write overwrites the oldest entries\n", b.cacheMB)
	}
	fmt.Println("µs/req is process CPU time (getrusage user+system) per request; allocs/req is heap allocations per request; ratio is runtime/raw throughput, cpu× runtime/raw CPU per request")
	header := fmt.Sprintf("%6s  %10s %8s %8s", "conc", "raw req/s", "µs/req", "allocs")
	for _, m := range b.modes {
		header += fmt.Sprintf("  %14s %6s %8s %6s %8s", "rt "+m+" req/s", "ratio", "µs/req", "cpu×", "allocs")
	}
	if len(b.modes) > 1 {
		header += fmt.Sprintf("  %s", "vs "+b.modes[0])
	}
	fmt.Println(header)
	for _, c := range b.concs {
		tag := "c" + strconv.Itoa(c)
		// Warm every path up: connections, goroutines, client actor.
		if _, err := drive(rawCtx, c, c, ps.rawCall(raw, tag+"-warm-raw")); err != nil {
			return err
		}
		for i, m := range b.modes {
			if _, err := drive(modeCtx[i], c, c, ps.predictCall(predicts[i], tag+"-warm-"+m)); err != nil {
				return err
			}
		}
		samples := make([][]sample, len(b.modes)+1) // raw, then each mode
		for r := range b.rounds {
			s, err := measure(rawCtx, b.n, c, ps.rawCall(raw, fmt.Sprintf("%s-r%d-raw", tag, r)))
			if err != nil {
				return fmt.Errorf("raw, concurrency %d: %w", c, err)
			}
			samples[0] = append(samples[0], s)
			for k := range b.modes {
				// Alternate the order of the modes from round to round.
				i := (k + r) % len(b.modes)
				s, err := measure(modeCtx[i], b.n, c, ps.predictCall(predicts[i], fmt.Sprintf("%s-r%d-%s", tag, r, b.modes[i])))
				if err != nil {
					return fmt.Errorf("runtime (telemetry %s), concurrency %d: %w", b.modes[i], c, err)
				}
				samples[i+1] = append(samples[i+1], s)
			}
		}
		med := make([]sample, len(samples))
		for i, ss := range samples {
			med[i] = medianSample(ss)
		}
		line := fmt.Sprintf("%6d  %10.0f %8.0f %8.0f", c, med[0].rate, med[0].cpuUS, med[0].allocs)
		for i := range b.modes {
			m := med[i+1]
			line += fmt.Sprintf("  %14.0f %6.2f %8.0f %6.2f %8.0f", m.rate, m.rate/med[0].rate, m.cpuUS, m.cpuUS/med[0].cpuUS, m.allocs)
		}
		for i := 1; i < len(b.modes); i++ {
			line += fmt.Sprintf("  %s %+.1f%%", b.modes[i], 100*(med[i+1].rate/med[1].rate-1))
		}
		fmt.Println(line)
		if b.rounds > 1 {
			fmt.Println(spread(b.modes, samples))
		}
	}
	if b.hits > 0 {
		for i, m := range b.modes {
			p50, p99, err := cacheHits(ctx, predicts[i], b.hits)
			if err != nil {
				return fmt.Errorf("cache hits (telemetry %s): %w", m, err)
			}
			fmt.Printf("cache hit through a typed Predict (telemetry %s): p50 %v, p99 %v over %d hits\n", m, p50, p99, b.hits)
		}
	}
	for i, rt := range rts {
		st, err := rt.Status(ctx)
		if err != nil {
			return err
		}
		for _, cl := range st.Clients {
			fmt.Printf("runtime (telemetry %s) client %s: %d requests, %d cache hits, %d restarts, breaker %s\n",
				b.modes[i], cl.ID, cl.Requests, cl.CacheHits, cl.Restarts, cl.Breaker)
		}
	}
	if b.inflight > 0 {
		return b.memoryInFlight(ctx)
	}
	return nil
}

// sample is one timed run: throughput, process CPU per request and heap
// allocations per request.
type sample struct{ rate, cpuUS, allocs float64 }

// measure drives n calls on conc workers and samples the process around
// it.
func measure(ctx context.Context, n, conc int, call func(context.Context, int) error) (sample, error) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	cpu := benchkit.CPUTime()
	d, err := drive(ctx, n, conc, call)
	cpu = benchkit.CPUTime() - cpu
	var fe failedError
	if errors.As(err, &fe) && fe.failed*100 < n {
		// A connection the loaded server closed under a call, say: note
		// it, and count the run.
		fmt.Fprintf(os.Stderr, "bench: %d of %d calls failed, first: %v\n", fe.failed, n, fe.err)
		err = nil
	}
	runtime.ReadMemStats(&ms)
	return sample{
		rate:   float64(n) / d.Seconds(),
		cpuUS:  float64(cpu.Microseconds()) / float64(n),
		allocs: float64(ms.Mallocs-mallocs) / float64(n),
	}, err
}

// spread describes how the figures moved between rounds: for each mode
// the lowest and highest of the runtime's throughput ratio and CPU ratio
// to raw, and of each mode's throughput against the first mode's, each
// figure taken within one round (samples holds raw's rounds, then each
// mode's).
func spread(modes []string, samples [][]sample) string {
	within := func(f func(r int) float64) string {
		lo, hi := math.Inf(1), math.Inf(-1)
		for r := range samples[0] {
			lo, hi = min(lo, f(r)), max(hi, f(r))
		}
		return fmt.Sprintf("%.2f–%.2f", lo, hi)
	}
	line := "        rounds:"
	for i, m := range modes {
		ss := samples[i+1]
		line += fmt.Sprintf(" rt %s ratio %s, cpu× %s;", m,
			within(func(r int) float64 { return ss[r].rate / samples[0][r].rate }),
			within(func(r int) float64 { return ss[r].cpuUS / samples[0][r].cpuUS }))
	}
	for i := 1; i < len(modes); i++ {
		ss := samples[i+1]
		line += fmt.Sprintf(" %s/%s throughput %s;", modes[i], modes[0],
			within(func(r int) float64 { return ss[r].rate / samples[1][r].rate }))
	}
	return strings.TrimSuffix(line, ";")
}

// medianSample is the median of each measure.
func medianSample(ss []sample) sample {
	var rates, cpus, allocs []float64
	for _, s := range ss {
		rates, cpus, allocs = append(rates, s.rate), append(cpus, s.cpuUS), append(allocs, s.allocs)
	}
	return sample{rate: median(rates), cpuUS: median(cpus), allocs: median(allocs)}
}

// cacheHits times n calls of p that the cache answers and returns their
// median and 99th percentile latency.
func cacheHits(ctx context.Context, p *programs.Predict[question, answer], n int) (p50, p99 time.Duration, err error) {
	in := question{Question: "What is the capital of France? (cache-hit benchmark)"}
	if _, err := p.Call(ctx, in); err != nil { // fills the cache
		return 0, 0, err
	}
	lat := make([]time.Duration, n)
	for i := range lat {
		start := time.Now()
		if _, err := p.Call(ctx, in); err != nil {
			return 0, 0, err
		}
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	return lat[n/2], lat[n*99/100], nil
}

// memoryInFlight holds b.inflight requests in flight against a simulator
// answering after b.inflightLatency, on each path in turn, and reports the
// live heap, goroutine stacks and goroutines per request in flight. Each
// path is measured in a fresh child process (-inflight-child): the Go
// runtime sizes new goroutine stacks from the average stack it last saw,
// so a path measured after the throughput runs, or after the other path,
// would carry their history.
func (b *bench) memoryInFlight(ctx context.Context) error {
	url, stop, err := b.simulator(b.inflightLatency)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("memory per request in flight: %d in flight, simulator latency %v, each path in a fresh process\n", b.inflight, b.inflightLatency)
	rawMem, err := inFlightChild(ctx, "raw", url, b.inflight, b.memProfile)
	if err != nil {
		return fmt.Errorf("raw: %w", err)
	}
	fmt.Printf("  raw go-openai:  %s\n", rawMem)
	rtMem, err := inFlightChild(ctx, "rt", url, b.inflight, b.memProfile)
	if err != nil {
		return fmt.Errorf("runtime: %w", err)
	}
	fmt.Printf("  runtime (off):  %s  (%.2fx raw bytes, %.2fx raw goroutines)\n", rtMem, rtMem.bytes()/rawMem.bytes(), rtMem.goroutines/rawMem.goroutines)
	return nil
}

// inFlightChild runs this command with -inflight-child path against the
// simulator at url and reads the figures it prints.
func inFlightChild(ctx context.Context, path, url string, n int, memProfile string) (inFlight, error) {
	exe, err := os.Executable()
	if err != nil {
		return inFlight{}, err
	}
	args := []string{"-inflight-child", path, "-inflight-url", url, "-inflight", strconv.Itoa(n)}
	if memProfile != "" {
		args = append(args, "-inflight-memprofile", memProfile+"."+path)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return inFlight{}, fmt.Errorf("child process: %w", err)
	}
	var m inFlight
	if _, err := fmt.Sscan(string(out), &m.heap, &m.stack, &m.goroutines, &m.fds); err != nil {
		return inFlight{}, fmt.Errorf("child process printed %q: %w", out, err)
	}
	return m, nil
}

// inFlightMain is the child process of inFlightChild: it holds n requests
// of path ("raw" or "rt") in flight against the simulator at url and
// prints heap, stack, goroutines and open files per request. With
// memProfile it writes a heap profile there while they are in flight.
//
// With maxStack > 0 it first makes one call, bounded to a second (the
// simulator answers later: the call has formatted its prompt and sent its
// request by then, so one-time work such as the Chat adapter's first
// rendering is done), then caps every goroutine's stack at maxStack
// bytes: a call whose goroutine needs a larger stack before its request
// waits crashes the process with a traceback of where (see stackLimit).
func inFlightMain(path, url string, n int, memProfile string, maxStack int) error {
	if memProfile != "" {
		runtime.MemProfileRate = 4096 // fine enough to tell a request's allocations apart
	}
	benchkit.RaiseFileLimit()
	ps, err := newPaths()
	if err != nil {
		return err
	}
	ctx := context.Background()
	var call func(context.Context, int) error
	switch path {
	case "raw":
		raw, tr := rawClient(url)
		defer tr.CloseIdleConnections()
		call = ps.rawCall(raw, "inflight-raw")
	case "rt":
		b := bench{}
		rt, p, err := b.runtimeFor(ctx, url, modeOff)
		if err != nil {
			return err
		}
		defer rt.Close(ctx)
		call = ps.predictCall(p, "inflight-rt")
	default:
		return fmt.Errorf("-inflight-child %q: want raw or rt", path)
	}
	if maxStack > 0 {
		warm, cancel := context.WithTimeout(ctx, time.Second)
		_ = call(warm, n) // fails when the second is up: only its start matters
		cancel()
		debug.SetMaxStack(maxStack)
	}
	// The figures are printed while the calls are still in flight: -frames
	// reads them as its cue.
	_, err = holdInFlight(ctx, n, call, memProfile, func(m inFlight) {
		fmt.Println(m.heap, m.stack, m.goroutines, m.fds)
	})
	return err
}

// inFlight is what one request in flight holds.
type inFlight struct{ heap, stack, goroutines, fds float64 }

func (m inFlight) bytes() float64 { return m.heap + m.stack }

func (m inFlight) String() string {
	fds := "unknown"
	if m.fds >= 0 {
		fds = fmt.Sprintf("%.2f", m.fds)
	}
	return fmt.Sprintf("%6.1f KiB (live heap %.1f + stacks %.1f), %.2f goroutines, %s open files per request",
		m.bytes()/1024, m.heap/1024, m.stack/1024, m.goroutines, fds)
}

// holdInFlight starts n calls at once, waits until the process stops
// growing (every call waits on the simulator), measures, and waits for the
// calls to end.
func holdInFlight(ctx context.Context, n int, call func(context.Context, int) error, memProfile string, ready func(inFlight)) (inFlight, error) {
	heap0, stack0 := liveBytes()
	g0, fd0 := runtime.NumGoroutine(), openFiles()
	var (
		wg       sync.WaitGroup
		firstErr error
		errOnce  sync.Once
	)
	for i := range n {
		wg.Go(func() {
			if err := call(ctx, i); err != nil {
				errOnce.Do(func() { firstErr = err })
			}
		})
	}
	// Every call is in flight once the goroutine count stops growing.
	last, still := runtime.NumGoroutine(), 0
	for still < 10 {
		time.Sleep(100 * time.Millisecond)
		if g := runtime.NumGoroutine(); g > last {
			last, still = g, 0
		} else {
			still++
		}
	}
	heap, stack := liveBytes()
	m := inFlight{
		heap:       float64(heap-heap0) / float64(n),
		stack:      float64(stack-stack0) / float64(n),
		goroutines: float64(runtime.NumGoroutine()-g0) / float64(n),
		fds:        -1,
	}
	if fd := openFiles(); fd >= 0 && fd0 >= 0 {
		m.fds = float64(fd-fd0) / float64(n)
	}
	if memProfile != "" {
		if err := writeHeapProfile(memProfile); err != nil {
			return m, err
		}
	}
	ready(m)
	wg.Wait()
	return m, firstErr
}

// writeHeapProfile writes the heap profile to file.
func writeHeapProfile(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// liveBytes returns the live heap and the goroutine stacks after a
// collection.
func liveBytes() (heap, stack int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc), int64(ms.StackInuse)
}

// openFiles returns the number of files the process has open, or -1
// where /proc does not tell.
func openFiles() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(fds)
}

// median returns the median of xs (not empty).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// failedError reports the calls of a run that failed, and the first error.
type failedError struct {
	failed int
	err    error
}

func (e failedError) Error() string {
	return fmt.Sprintf("%d calls failed, first: %v", e.failed, e.err)
}
func (e failedError) Unwrap() error { return e.err }

// drive runs call for i in [0, n) on conc workers and returns the elapsed
// time, and a failedError when calls failed.
func drive(ctx context.Context, n, conc int, call func(context.Context, int) error) (time.Duration, error) {
	var (
		next     atomic.Int64
		failed   atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		errOnce  sync.Once
	)
	start := time.Now()
	for range min(conc, n) {
		wg.Go(func() {
			pprof.SetGoroutineLabels(ctx) // ctx's profiler labels, if any
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := call(ctx, i); err != nil {
					failed.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return time.Since(start), failedError{failed: int(failed.Load()), err: firstErr}
	}
	return time.Since(start), nil
}
