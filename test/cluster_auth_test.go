package test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/lm"
)

const (
	authSecret      = "cluster-secret-0123456789"
	authWrongSecret = "cluster-secret-9876543210"
)

// authProc is a cmd/node process whose standard error is read line by
// line, to find its security warnings.
type authProc struct {
	*clProc
	stdout *bufio.Reader
	stderr chan string // closed at EOF
}

// authStart starts bin with env (without API keys and cluster secret, plus
// extraEnv) and args.
func authStart(t *testing.T, bin, name string, extraEnv []string, args ...string) *authProc {
	t.Helper()
	var env []string
	for _, kv := range clEnvWithoutKeys() {
		if !strings.HasPrefix(kv, cluster.EnvClusterSecret+"=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(env, extraEnv...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &authProc{clProc: &clProc{name: name, cmd: cmd}, stdout: bufio.NewReader(out), stderr: make(chan string, 256)}
	t.Cleanup(p.kill)
	go func() {
		defer close(p.stderr)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			select {
			case p.stderr <- sc.Text():
			default: // nobody reads: drop
			}
		}
	}()
	return p
}

// refusal waits for the process to log a refused peer for reason, and
// returns the line; it names the peer's address.
func (p *authProc) refusal(t *testing.T, reason string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-p.stderr:
			if !ok {
				t.Fatalf("%s exited without logging a refused peer", p.name)
			}
			if strings.Contains(line, "peer refused") && strings.Contains(line, reason) {
				if !strings.Contains(line, "peer=127.0.0.1:") {
					t.Fatalf("%s: refusal without the peer's address: %s", p.name, line)
				}
				return line
			}
		case <-timeout:
			t.Fatalf("%s logged no peer refused for %q", p.name, reason)
		}
	}
}

// authMode is one way of securing a cluster: the flags and environment
// of cmd/node, and the Endpoint of an in-process peer.
type authMode struct {
	name string
	// refused is the reason logged for a peer without credentials.
	refused string
	env     []string
	args    []string
	apply   func(*cluster.Endpoint)
}

func authModes(t *testing.T) []authMode {
	ca, cert, key := clCerts(t, t.TempDir())
	return []authMode{
		{
			name:    "secret",
			refused: "no cluster secret handshake",
			env:     []string{cluster.EnvClusterSecret + "=" + authSecret},
			apply:   func(e *cluster.Endpoint) { e.Secret = config.Secret(authSecret) },
		},
		{
			name:    "mtls",
			refused: "TLS: ",
			args:    []string{"-tls-cert", cert, "-tls-key", key, "-tls-ca", ca, "-mtls"},
			apply: func(e *cluster.Endpoint) {
				e.TLS = &cluster.TLS{CertFile: cert, KeyFile: key, CAFile: ca, Mutual: true}
			},
		},
	}
}

// authDial is an in-process GatewayLM over ep.
func authDial(t *testing.T, gw string, ep cluster.Endpoint) *cluster.GatewayLM {
	t.Helper()
	g, err := cluster.DialGateway(context.Background(), cluster.GatewayClientConfig{Endpoint: ep, Gateway: gw, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close(context.Background()) })
	return g
}

func authAsk(model string) lm.Request {
	return lm.Request{Model: model, Messages: []lm.Message{{Role: lm.RoleUser, Content: "What is the capital of Peru?"}}}
}

// TestClusterAuthGateway: a gateway secured by a cluster secret or by
// mutual TLS refuses a process without credentials (and, with a secret, a
// process with the wrong one), logging the refused peer's address, and no
// request reaches the provider; an authenticated process is served, but
// only for the provider's models.
func TestClusterAuthGateway(t *testing.T) {
	t.Setenv(cluster.EnvClusterSecret, "")
	bin := clBuild(t)
	for _, mode := range authModes(t) {
		t.Run(mode.name, func(t *testing.T) {
			sim := evSim(t)
			args := append([]string{"-serve-gateway", "-listen", "127.0.0.1:0", "-sim-url", sim.URL(), "-model", sim.Model(), "-cache=false"}, mode.args...)
			gw := authStart(t, bin, "gateway", append(mode.env, "OPENAI_API_KEY="+clGatewayKey), args...)
			gw.addr = clLine(t, gw.stdout, "gateway", "gateway listening on ")

			type attacker struct {
				name, reason string
				ep           cluster.Endpoint
			}
			attackers := []attacker{{"no credentials", mode.refused, cluster.Endpoint{}}}
			if mode.name == "secret" {
				attackers = append(attackers, attacker{"wrong secret", "wrong cluster secret", cluster.Endpoint{Secret: config.Secret(authWrongSecret)}})
			}
			for _, a := range attackers {
				_, err := authDial(t, gw.addr, a.ep).Chat(context.Background(), authAsk(""))
				if err == nil {
					t.Fatalf("%s: the gateway served the call", a.name)
				}
				t.Logf("%s: %v; gateway: %s", a.name, err, gw.refusal(t, a.reason))
			}
			if n := sim.Stats().Requests; n != 0 {
				t.Fatalf("the provider got %d requests from unauthenticated callers", n)
			}

			var ep cluster.Endpoint
			mode.apply(&ep)
			good := authDial(t, gw.addr, ep)
			if _, err := good.Chat(context.Background(), authAsk("")); err != nil {
				t.Fatalf("authenticated call: %v", err)
			}
			if _, err := good.Chat(context.Background(), authAsk(sim.Model())); err != nil {
				t.Fatalf("authenticated call for the provider's model: %v", err)
			}
			served := sim.Stats().Requests
			_, err := good.Chat(context.Background(), authAsk("gpt-4o"))
			if !errors.Is(err, cluster.ErrModelNotAllowed) {
				t.Fatalf("call for a model outside the provider's list = %v, want ErrModelNotAllowed", err)
			}
			if n := sim.Stats().Requests; n != served {
				t.Fatal("the refused model's call reached the provider")
			}
		})
	}
}

// TestClusterAuthNodeAndCoordinator: a node process and a coordinator
// process secured by a cluster secret or mutual TLS refuse an
// unauthenticated coordinator (which cannot give the node work) and an
// unauthenticated node (which cannot join to receive prompts and return
// results), logging the refused peer's address; an authenticated
// coordinator evaluates on the secured node.
func TestClusterAuthNodeAndCoordinator(t *testing.T) {
	t.Setenv(cluster.EnvClusterSecret, "")
	bin := clBuild(t)
	for _, mode := range authModes(t) {
		t.Run(mode.name, func(t *testing.T) {
			sim := evSim(t)

			// A secured node dialled by a coordinator without credentials.
			args := append([]string{"-listen", "127.0.0.1:0", "-name", "secured",
				"-sim-url", sim.URL(), "-model", sim.Model(), "-cache=false"}, mode.args...)
			node := authStart(t, bin, "node", mode.env, args...)
			node.addr = clLine(t, node.stdout, "node", "node secured listening on ")
			rogue := clCoordinator(t, func(c *cluster.CoordinatorConfig) { c.Membership = cluster.StaticMembership(node.addr) })
			t.Logf("node: %s", node.refusal(t, mode.refused))
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			err := rogue.WaitNodes(ctx, 1)
			cancel()
			if err == nil {
				t.Fatal("the unauthenticated coordinator got the secured node")
			}

			// A secured coordinator joined by a node without credentials.
			coordArgs := append([]string{"-coordinate", "-listen", "127.0.0.1:0", "-nodes", "1", "-n", "10", "-kind", "qa-predict"}, mode.args...)
			coord := authStart(t, bin, "coordinator", mode.env, coordArgs...)
			coord.addr = clLine(t, coord.stdout, "coordinator", "coordinator listening on ")
			coord.addr = strings.TrimSuffix(coord.addr, ";")
			intruder := authStart(t, bin, "intruder", nil, "-listen", "127.0.0.1:0", "-join", coord.addr, "-name", "intruder",
				"-sim-url", sim.URL(), "-model", sim.Model(), "-cache=false")
			clLine(t, intruder.stdout, "intruder", "node intruder listening on ")
			t.Logf("coordinator: %s", coord.refusal(t, mode.refused))

			// An authenticated coordinator evaluates on the secured node.
			good := clCoordinator(t, func(c *cluster.CoordinatorConfig) {
				mode.apply(&c.Endpoint)
				c.Membership = cluster.StaticMembership(node.addr)
			})
			ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := good.WaitNodes(ctx, 1); err != nil {
				t.Fatal(err)
			}
			res, err := evaluate.Run(ctx, clQA(t), clDevset(20), evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
				evaluate.WithDispatcher(good.Dispatcher("qa-predict")), evaluate.WithConcurrency(8))
			if err != nil || res.Scored != 20 {
				t.Fatalf("%s: %v", res.Summary(), err)
			}
		})
	}
}

// TestClusterInsecureListenRefused: without a cluster secret or mutual
// TLS, a gateway, a node and a coordinator refuse to listen beyond
// loopback, and say what to configure.
func TestClusterInsecureListenRefused(t *testing.T) {
	bin := clBuild(t)
	sim := evSim(t)
	for _, mode := range [][]string{
		{"-serve-gateway", "-sim-url", sim.URL()},
		{"-sim-url", sim.URL()},
		{"-coordinate"},
	} {
		t.Run(mode[0], func(t *testing.T) {
			p := authStart(t, bin, mode[0], nil, append([]string{"-listen", "0.0.0.0:0"}, mode...)...)
			var stderr []string
			for line := range p.stderr {
				stderr = append(stderr, line)
			}
			err := p.cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v", err)
			}
			out := strings.Join(stderr, "\n")
			for _, want := range []string{"refusing a non-loopback listen address without peer authentication", cluster.EnvClusterSecret, "-mtls"} {
				if !strings.Contains(out, want) {
					t.Fatalf("stderr %q does not say %q", out, want)
				}
			}
			if b, _ := io.ReadAll(p.stdout); len(b) != 0 {
				t.Fatalf("it started: %s", b)
			}
		})
	}
}
