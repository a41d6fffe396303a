package test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/simlm"
)

// clGatewayKey is the API key only the gateway process holds.
const clGatewayKey = "sk-cluster-gateway-5e1f"

// clStart starts bin with args and env (nil: the test's environment) and
// returns the process, killed with the test, and a reader of its output.
func clStart(tb testing.TB, bin, name string, env []string, args ...string) (*clProc, *bufio.Reader) {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &clProc{name: name, cmd: cmd}
	tb.Cleanup(p.kill)
	return p, bufio.NewReader(out)
}

// clLine reads a line of a process's output and returns the word after
// "on" in it (an address), failing unless the line starts with prefix.
func clLine(tb testing.TB, r *bufio.Reader, name, prefix string) string {
	tb.Helper()
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, prefix) {
		tb.Fatalf("%s said %q (%v), want %q...", name, line, err, prefix)
	}
	f := strings.Fields(line)
	for i := range f[:len(f)-1] {
		if f[i] == "on" {
			return strings.TrimSuffix(f[i+1], ",")
		}
	}
	return ""
}

// clGatewayProc starts cmd/node as an LM gateway on the OpenAI-compatible
// server at url, with the API key clGatewayKey in its environment.
func clGatewayProc(tb testing.TB, bin, url, model string, extra ...string) *clProc {
	tb.Helper()
	args := append([]string{"-serve-gateway", "-listen", "127.0.0.1:0", "-sim-url", url, "-model", model, "-cache=false"}, extra...)
	p, out := clStart(tb, bin, "gateway", append(clEnvWithoutKeys(), "OPENAI_API_KEY="+clGatewayKey), args...)
	if p.addr = clLine(tb, out, "gateway", "gateway listening on "); p.addr == "" {
		tb.Fatal("the gateway printed no address")
	}
	return p
}

// clGatewayNode starts a node process joining coord that sends its LM
// calls to the gateway at gw: no provider, no simulator, no key.
func clGatewayNode(tb testing.TB, bin, coord, gw, name string, extra ...string) *clProc {
	tb.Helper()
	args := append([]string{"-listen", "127.0.0.1:0", "-join", coord, "-name", name, "-gateway", gw}, extra...)
	p, out := clStart(tb, bin, name, clEnvWithoutKeys(), args...)
	if p.addr = clLine(tb, out, name, "node "+name+" listening on "); p.addr == "" {
		tb.Fatalf("node %s printed no address", name)
	}
	clLine(tb, out, name, "node "+name+" sends its LM calls to the gateway at "+gw)
	return p
}

// clEnvWithoutKeys is the test's environment without API keys.
func clEnvWithoutKeys() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.Contains(strings.SplitN(kv, "=", 2)[0], "API_KEY") {
			env = append(env, kv)
		}
	}
	return env
}

// clAuthProxy serves sim's API at its own URL, recording the
// Authorization header of every request.
type clAuthProxy struct {
	srv  *httptest.Server
	mu   sync.Mutex
	auth map[string]int
}

func newAuthProxy(tb testing.TB, sim *simlm.Server) *clAuthProxy {
	p := &clAuthProxy{auth: map[string]int{}}
	h := sim.Handler()
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.auth[r.Header.Get("Authorization")]++
		p.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	tb.Cleanup(p.srv.Close)
	return p
}

func (p *clAuthProxy) url() string { return p.srv.URL + "/v1" }

func (p *clAuthProxy) seen() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.auth))
	for k, v := range p.auth {
		out[k] = v
	}
	return out
}

// TestClusterGateway evaluates 300 examples over two node processes that
// hold no provider and send their LM calls to a gateway process, whose
// runtime caps the requests in flight at 4: every example is scored once,
// with the simulator's answer, both nodes work, every request reaches the
// simulator through the gateway with the gateway's key, and the simulator
// never sees more than 4 requests at once although the nodes run 32
// examples at a time.
func TestClusterGateway(t *testing.T) {
	const clientCap, capacity, examples = 4, 16, 300
	bin := clBuild(t)
	sim := evSim(t, simlm.WithLatency(2*time.Millisecond))
	proxy := newAuthProxy(t, sim)
	gw := clGatewayProc(t, bin, proxy.url(), sim.Model(), "-client-concurrency", fmt.Sprint(clientCap))
	c := clCoordinator(t, nil)
	nodes := []*clProc{
		clGatewayNode(t, bin, c.Address(), gw.addr, "g1", "-capacity", fmt.Sprint(capacity)),
		clGatewayNode(t, bin, c.Address(), gw.addr, "g2", "-capacity", fmt.Sprint(capacity)),
	}
	// Close the coordinator before the nodes are killed.
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := c.WaitNodes(ctx, len(nodes)); err != nil {
		t.Fatal(err)
	}
	prog := clQA(t)
	devset := clDevset(examples)
	res, err := evaluate.Run(ctx, prog, devset, evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
		evaluate.WithDispatcher(c.Dispatcher("qa-predict")), evaluate.WithConcurrency(2*capacity))
	if err != nil {
		t.Fatal(err)
	}
	st, simst := c.Stats(), sim.Stats()
	t.Logf("%s; %v; simulator: %d requests, at most %d at once", res.Summary(), st, simst.Requests, simst.MaxInFlight)
	if !res.Complete || res.Scored != examples {
		t.Fatalf("result %s; failures %v", res.Summary(), res.Failures()[:min(3, len(res.Failures()))])
	}
	if st.Completed != examples || st.Duplicates != 0 || st.Reassigned != 0 {
		t.Errorf("stats %v", st)
	}
	for _, n := range st.Nodes {
		if n.Completed == 0 {
			t.Errorf("node %s ran no example", n.Name)
		}
	}
	if simst.Requests != examples {
		t.Errorf("the simulator served %d requests for %d examples", simst.Requests, examples)
	}
	if simst.MaxInFlight > clientCap || simst.MaxInFlight < 2 {
		t.Errorf("the simulator had at most %d requests at once, want 2 to %d: the gateway's cap holds for the cluster and its calls overlap",
			simst.MaxInFlight, clientCap)
	}
	if seen := proxy.seen(); len(seen) != 1 || seen["Bearer "+clGatewayKey] != examples {
		t.Errorf("requests carried Authorization %v, want the gateway's key on all %d", seen, examples)
	}

	clMatchLocal(t, ctx, prog, sim, res, devset, len(devset), 16)
}

// TestClusterGatewayKilled kills the gateway process with SIGKILL while
// the simulator holds its first requests: every example still ends in the
// result, failed with the error that the node's gateway is unreachable.
func TestClusterGatewayKilled(t *testing.T) {
	const examples = 24
	bin := clBuild(t)
	arrived := make(chan struct{}, 1)
	sim := evSim(t, simlm.WithFaults(simlm.Faults{Script: func(simlm.RequestInfo) *simlm.Fault {
		select {
		case arrived <- struct{}{}:
		default:
		}
		return &simlm.Fault{Hang: true} // until the gateway goes away
	}}))
	gw := clGatewayProc(t, bin, sim.URL(), sim.Model())
	c := clCoordinator(t, nil)
	nodes := []*clProc{
		clGatewayNode(t, bin, c.Address(), gw.addr, "k1", "-capacity", "4"),
		clGatewayNode(t, bin, c.Address(), gw.addr, "k2", "-capacity", "4"),
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.WaitNodes(ctx, len(nodes)); err != nil {
		t.Fatal(err)
	}
	prog := clQA(t)
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		select {
		case <-arrived:
			gw.kill()
		case <-ctx.Done():
		}
	}()
	res, err := evaluate.Run(ctx, prog, clDevset(examples), evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
		evaluate.WithDispatcher(c.Dispatcher("qa-predict")), evaluate.WithConcurrency(8))
	<-killed
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s; %v", res.Summary(), c.Stats())
	if !res.Complete || res.Failed != examples {
		t.Fatalf("result %s, want all %d examples failed", res.Summary(), examples)
	}
	for _, row := range res.Rows {
		var re *cluster.RemoteError
		if !errors.As(row.Err, &re) || re.Kind != cluster.KindProgram {
			t.Fatalf("row %d: %v (%T), want a program failure on a node", row.Index, row.Err, row.Err)
		}
		if !strings.Contains(re.Message, "cluster: gateway "+gw.addr) || !strings.Contains(re.Message, cluster.ErrGatewayUnreachable.Error()) {
			t.Fatalf("row %d: %q does not say that the gateway %s is unreachable", row.Index, re.Message, gw.addr)
		}
		if !errors.Is(row.Err, cluster.ErrGatewayUnreachable) {
			t.Fatalf("row %d: %v does not match ErrGatewayUnreachable across the node", row.Index, row.Err)
		}
	}
	if st := c.Stats(); st.Completed != examples || st.Reassigned != 0 {
		t.Errorf("stats %v", st)
	}
}
