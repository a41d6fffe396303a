package cluster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/lm"
)

// The gateway tests run each gateway in a process of its own (this test
// binary, re-executed): protoactor-go's remote.Start sets gRPC's global
// logger, which the gRPC goroutines of any other live endpoint of the same
// process read, a data race that -race reports. The test process has one
// endpoint at a time, that of its GatewayLM.

// gwWatchdog bounds waits for something that must happen promptly; it
// only catches hangs, nothing is timed.
const gwWatchdog = 30 * time.Second

// Environment of a gateway process.
const (
	gwEnvMode        = "DSPEX_GATEWAY_TEST_PROCESS" // what the gateway's LM does (processLM)
	gwEnvListen      = "DSPEX_GATEWAY_TEST_LISTEN"
	gwEnvMaxInFlight = "DSPEX_GATEWAY_TEST_MAX_IN_FLIGHT"
	gwEnvURL         = "DSPEX_GATEWAY_TEST_URL" // mode "openai": the provider's base URL
	gwEnvKey         = "DSPEX_GATEWAY_TEST_KEY" // and its API key
)

// TestGatewayProcess is a gateway process of the other tests, when
// started by startGatewayProcess; otherwise it skips.
//
// It prints "gateway ADDR" once it serves, then events of its LM, one a
// line. For each line "stats" it reads on its standard input it prints
// "stats served=S failed=F peak=P running=R"; when its input closes, it
// closes the gateway, prints the stats and exits.
func TestGatewayProcess(t *testing.T) {
	mode := os.Getenv(gwEnvMode)
	if mode == "" {
		t.Skip("a gateway process for the other gateway tests")
	}
	os.Exit(runGatewayProcess(mode))
}

func runGatewayProcess(mode string) int {
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "gateway process:", err)
		return 2
	}
	cfg := DefaultGatewayConfig()
	cfg.Models = []string{"m"} // the model gwRequest names
	if l := os.Getenv(gwEnvListen); l != "" {
		cfg.Listen = l
	}
	if n := os.Getenv(gwEnvMaxInFlight); n != "" {
		var err error
		if cfg.MaxInFlight, err = strconv.Atoi(n); err != nil {
			return fail(err)
		}
	}
	if mode == "bare" { // an endpoint without a gateway
		sys, r, addr, err := startRemote(cfg.Endpoint)
		if err != nil {
			return fail(err)
		}
		say("gateway %s", addr)
		_, _ = io.Copy(io.Discard, os.Stdin)
		shutdown(sys, r)
		return 0
	}
	m, err := processLM(mode, say)
	if err != nil {
		return fail(err)
	}
	cfg.LM = m
	if mode == "openai" {
		// The models the conformance suite (lm/lmtest) asks for: the
		// gateway serves those of its provider only.
		cfg.Models = append(cfg.Models, "model-a", "model-b", "model-c", "model-d", "asked-model", "status-model")
	}
	g, err := StartGateway(context.Background(), cfg)
	if err != nil {
		return fail(err)
	}
	say("gateway %s", g.Address())
	stats := func() {
		st := g.Stats()
		say("stats served=%d failed=%d peak=%d running=%d", st.Served, st.Failed, st.Peak, st.Running)
	}
	for in := bufio.NewScanner(os.Stdin); in.Scan(); {
		if in.Text() == "stats" {
			stats()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), gwWatchdog)
	defer cancel()
	if err := g.Close(ctx); err != nil {
		return fail(err)
	}
	stats()
	return 0
}

func reply(text string) lm.Response {
	return lm.Response{Model: "gw", Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: text}, FinishReason: "stop"}}}
}

// processLM is the LM of a gateway process:
//
//   - "openai": the OpenAI-compatible provider at $DSPEX_GATEWAY_TEST_URL
//     with the key $DSPEX_GATEWAY_TEST_KEY;
//   - "error:NAME": fails as gatewayErrorCases[NAME] says;
//   - "barrier:N": answers each call (echoing its last message) once N
//     calls are in it at the same time;
//   - "hold:K": lets calls go K at a time, once K are in it, and answers
//     "peak=P", the most calls it held at once so far;
//   - "inspect": answers "deadline=D trace=T", its call's deadline
//     (RFC 3339, or "none") and trace id;
//   - "block": prints "entered", waits for its call's context to end,
//     prints "cancelled ERR" and fails with the context's error;
//   - "echo:TEXT": answers TEXT.
func processLM(mode string, say func(string, ...any)) (lm.LM, error) {
	kind, arg, _ := strings.Cut(mode, ":")
	switch kind {
	case "openai":
		return lm.NewOpenAI(lm.OpenAIConfig{Provider: "conformance", BaseURL: os.Getenv(gwEnvURL), APIKey: os.Getenv(gwEnvKey)})
	case "error":
		for _, c := range gatewayErrorCases {
			if c.name == arg {
				return lm.Func(func(context.Context, lm.Request) (lm.Response, error) {
					if c.panics {
						panic("kaboom")
					}
					return lm.Response{}, c.err
				}), nil
			}
		}
		return nil, fmt.Errorf("no error case %q", arg)
	case "barrier":
		n, err := strconv.Atoi(arg)
		if err != nil {
			return nil, err
		}
		var in sync.WaitGroup
		in.Add(n)
		all := make(chan struct{})
		go func() { in.Wait(); close(all) }()
		return lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
			in.Done()
			select {
			case <-all:
				return reply(req.Messages[len(req.Messages)-1].Content), nil
			case <-ctx.Done():
				return lm.Response{}, ctx.Err()
			}
		}), nil
	case "hold":
		k, err := strconv.Atoi(arg)
		if err != nil {
			return nil, err
		}
		var (
			mu      sync.Mutex
			waiting []chan struct{}
			cur     atomic.Int64
			peak    atomic.Int64
		)
		return lm.Func(func(ctx context.Context, _ lm.Request) (lm.Response, error) {
			raise(&peak, cur.Add(1))
			defer cur.Add(-1)
			release := make(chan struct{})
			mu.Lock()
			waiting = append(waiting, release)
			if len(waiting) == k {
				for _, ch := range waiting {
					close(ch)
				}
				waiting = nil
			}
			mu.Unlock()
			select {
			case <-release:
				return reply(fmt.Sprintf("peak=%d", peak.Load())), nil
			case <-ctx.Done():
				return lm.Response{}, ctx.Err()
			}
		}), nil
	case "inspect":
		return lm.Func(func(ctx context.Context, _ lm.Request) (lm.Response, error) {
			dl := "none"
			if d, ok := ctx.Deadline(); ok {
				dl = d.Format(time.RFC3339Nano)
			}
			return reply(fmt.Sprintf("deadline=%s trace=%s", dl, trace.SpanContextFromContext(ctx).TraceID())), nil
		}), nil
	case "block":
		return lm.Func(func(ctx context.Context, _ lm.Request) (lm.Response, error) {
			say("entered")
			<-ctx.Done()
			say("cancelled %v", ctx.Err())
			return lm.Response{}, ctx.Err()
		}), nil
	case "echo":
		return lm.Func(func(context.Context, lm.Request) (lm.Response, error) { return reply(arg), nil }), nil
	}
	return nil, fmt.Errorf("unknown mode %q", mode)
}

// gwProcess is a gateway process.
type gwProcess struct {
	addr    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan string   // what it prints, closed at the end
	scanned chan struct{} // closed when its output ends
	once    sync.Once
	waitErr error
}

// startGatewayProcess starts a gateway process whose LM does what mode
// says (processLM), with env added to its environment; it is killed with
// the test.
func startGatewayProcess(tb testing.TB, mode string, env ...string) *gwProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestGatewayProcess$")
	// A -race binary sleeps a second on exit unless told not to.
	cmd.Env = append(append(os.Environ(), gwEnvMode+"="+mode, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &gwProcess{cmd: cmd, stdin: stdin, lines: make(chan string, 64), scanned: make(chan struct{})}
	go func() {
		defer close(p.scanned)
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	tb.Cleanup(p.kill)
	line := p.next(tb, "gateway ")
	p.addr = strings.TrimPrefix(line, "gateway ")
	return p
}

// next returns the next line the process prints that starts with prefix.
func (p *gwProcess) next(tb testing.TB, prefix string) string {
	tb.Helper()
	timeout := time.NewTimer(gwWatchdog)
	defer timeout.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				tb.Fatalf("gateway process ended without printing %q", prefix)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-timeout.C:
			tb.Fatalf("gateway process did not print %q", prefix)
		}
	}
}

// stats returns the gateway's stats line.
func (p *gwProcess) stats(tb testing.TB) string {
	tb.Helper()
	if _, err := io.WriteString(p.stdin, "stats\n"); err != nil {
		tb.Fatal(err)
	}
	return p.next(tb, "stats ")
}

// close closes the gateway gracefully and returns its stats line.
func (p *gwProcess) close(tb testing.TB) string {
	tb.Helper()
	if err := p.stdin.Close(); err != nil {
		tb.Fatal(err)
	}
	stats := p.next(tb, "stats ")
	if err := p.wait(); err != nil {
		tb.Errorf("gateway process: %v", err)
	}
	return stats
}

// kill ends the process with SIGKILL (idempotent).
func (p *gwProcess) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.wait()
}

func (p *gwProcess) wait() error {
	p.once.Do(func() {
		for range p.lines { // let the scanner finish
		}
		<-p.scanned
		p.waitErr = p.cmd.Wait()
	})
	return p.waitErr
}

// gatewayLM returns a GatewayLM with an endpoint of its own for the
// gateway at addr, closed with the test. A test uses one at a time.
func gatewayLM(tb testing.TB, addr string) *GatewayLM {
	tb.Helper()
	g, err := DialGateway(context.Background(), GatewayClientConfig{Gateway: addr})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = g.Close(context.Background()) })
	return g
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		tb.Fatal(err)
	}
	return addr
}
