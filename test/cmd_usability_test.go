package test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dspex-go/dspex/simlm"
)

// buildCmd builds the command at pkg into a temporary directory.
func buildCmd(t *testing.T, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// envWithout is the environment without the OpenAI and dspex variables.
func envWithout() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPENAI_") && !strings.HasPrefix(kv, "DSPEX_") {
			env = append(env, kv)
		}
	}
	return env
}

// TestCommandFlagErrorsNameTheFlag: a bad flag value fails at once with an
// error that names the flag.
func TestCommandFlagErrorsNameTheFlag(t *testing.T) {
	node := buildCmd(t, "github.com/dspex-go/dspex/cmd/node")
	demo := buildCmd(t, "github.com/dspex-go/dspex/cmd/demo")
	tests := []struct {
		bin  string
		args []string
		want string
	}{
		{node, []string{"-coordinate", "-timeout", "-1s"}, "-timeout -1s"},
		{node, []string{"-join", "nohost"}, `-join "nohost"`},
		{node, []string{"-capacity", "0"}, "-capacity 0"},
		{demo, []string{"-timeout", "-1s"}, "-timeout -1s"},
		{demo, []string{"-timeout", "0s"}, "-timeout 0s"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.bin)+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := exec.Command(tt.bin, tt.args...)
			cmd.Env = envWithout()
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || !strings.Contains(string(out), tt.want) {
				t.Fatalf("exit %v, output %q; want a failure naming %q", err, out, tt.want)
			}
		})
	}
}

// TestNodeReportsUnreachableSeed: a -join seed nothing listens at is
// reported on standard error.
func TestNodeReportsUnreachableSeed(t *testing.T) {
	node := buildCmd(t, "github.com/dspex-go/dspex/cmd/node")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seed := l.Addr().String()
	_ = l.Close()
	cmd := exec.Command(node, "-listen", "127.0.0.1:0", "-join", seed)
	cmd.Env = envWithout()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || !strings.Contains(line, "-join "+seed+": unreachable") {
		t.Fatalf("stderr %q (%v); want the unreachable seed reported", line, err)
	}
}

// TestDemoKeylessEndpointAndInterrupt: with OPENAI_BASE_URL and no key the
// demo uses that endpoint (a local server needs no key), says so with the
// URL's credentials masked, and Ctrl-C during its evaluation prints the
// partial result.
func TestDemoKeylessEndpointAndInterrupt(t *testing.T) {
	demo := buildCmd(t, "github.com/dspex-go/dspex/cmd/demo")
	sim := evSim(t, simlm.WithLatency(300*time.Millisecond))
	url := strings.Replace(sim.URL(), "http://", "http://user:hunter2@", 1)
	cmd := exec.Command(demo, "-optimizer", "labeled", "-cache-dir", t.TempDir()) // a fresh cache: every call reaches the endpoint
	cmd.Env = append(envWithout(), "OPENAI_BASE_URL="+url, "DSPEX_MODEL="+sim.Model())
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	out := bufio.NewReader(stdout)
	banner, err := out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(banner, "Provider openai at http://xxxxx@127.0.0.1") || !strings.Contains(banner, "without an API key") ||
		strings.Contains(banner, "hunter2") {
		t.Fatalf("banner %q: want the keyless endpoint, credentials masked", banner)
	}
	var seen strings.Builder
	for {
		line, err := out.ReadString('\n')
		seen.WriteString(line)
		if err != nil {
			t.Fatalf("the demo ended before its evaluation: %v\n%s", err, seen.String())
		}
		if strings.HasPrefix(line, "== Evaluate and") {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out)
	if !strings.Contains(string(rest), "partial result of zero-shot") {
		t.Fatalf("after Ctrl-C the demo printed %q; want the partial result", rest)
	}
	if sim.Stats().Requests == 0 {
		t.Fatal("the demo never called the endpoint")
	}
}
