package test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClusterDiscoveryAutomanaged runs a coordinator and two nodes, as
// three processes, that find each other through protoactor-go's
// automanaged cluster provider on loopback: no -join, no static list of
// node endpoints, only the provider's health endpoints.
func TestClusterDiscoveryAutomanaged(t *testing.T) {
	bin := clBuild(t)
	sim := evSim(t)
	health := []string{clFreeAddr(t), clFreeAddr(t)}
	hosts := strings.Join(health, ",")
	for i, name := range []string{"a", "b"} {
		p := clNode(t, bin, "", sim, name, "-capacity", "16", "-provider", "automanaged",
			"-automanaged-listen", health[i], "-automanaged-hosts", hosts, "-automanaged-refresh", "200ms")
		if p.addr == "" {
			t.Fatalf("node %s has no address", name)
		}
	}
	const n = 300
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-coordinate", "-listen", "127.0.0.1:0", "-nodes", "2", "-n", strconv.Itoa(n),
		"-kind", "qa-predict", "-provider", "automanaged", "-automanaged-hosts", hosts, "-automanaged-refresh", "200ms",
		"-timeout", "50s")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("coordinator: %v\n%s", err, out)
	}
	text := string(out)
	if want := fmt.Sprintf("(%d scored, 0 failed, 0 not run)", n); !strings.Contains(text, want) {
		t.Fatalf("coordinator output lacks %q:\n%s", want, text)
	}
	// "2/2 nodes live, 300 completed, 0 reassigned, 0 duplicates dropped; a 126; b 174 in ..."
	if !strings.Contains(text, fmt.Sprintf("2/2 nodes live, %d completed", n)) {
		t.Fatalf("coordinator did not use both nodes:\n%s", text)
	}
	total := 0
	for _, name := range []string{"a", "b"} {
		m := regexp.MustCompile(`; ` + name + ` (\d+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no count for node %s:\n%s", name, text)
		}
		k, _ := strconv.Atoi(m[1])
		if k == 0 {
			t.Errorf("node %s ran no example:\n%s", name, text)
		}
		total += k
	}
	if total != n {
		t.Errorf("nodes ran %d examples, want %d:\n%s", total, n, text)
	}
}

// clFreeAddr returns a loopback address whose port was free a moment ago.
func clFreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
