package dspex

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dspex-go/dspex/config"
)

func TestPoolSize(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		name                 string
		concurrency, fileCap int
		p                    config.Provider
		want                 int
	}{
		{"the cap", 64, 1000, config.Provider{}, 64},
		{"the provider's cap", 64, 1000, config.Provider{Concurrency: n(16)}, 16},
		{"no cap: the file cap", 0, 1000, config.Provider{}, 1000},
		{"provider without a cap", 64, 1000, config.Provider{Concurrency: n(0)}, 1000},
		{"no bound known", 0, 0, config.Provider{}, defaultPoolSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Runtime{concurrency: tc.concurrency, fileCap: tc.fileCap}
			if got := r.poolSize(tc.p); got != tc.want {
				t.Fatalf("poolSize = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestTransportSpeaksHTTP2OverTLS checks that a provider's client
// negotiates HTTP/2 with a server that offers it, and multiplexes
// concurrent requests over one connection.
func TestTransportSpeaksHTTP2OverTLS(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	ts := &transports{}
	defer ts.close()
	client := ts.newClient(8)
	client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	get := func() string {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Error(err)
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if proto := get(); proto != "HTTP/2.0" {
		t.Fatalf("protocol = %q, want HTTP/2.0", proto)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() { get() })
	}
	wg.Wait()
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 17 requests, want 1", n)
	}
}

// TestTransportKeepsIdleConnections checks that an HTTP/1.1 client keeps
// as many idle connections as its pool size, so a second wave of
// concurrent requests reuses the first wave's connections.
func TestTransportKeepsIdleConnections(t *testing.T) {
	const conc = 8
	var conns atomic.Int64
	arrived, release := make(chan struct{}, conc), make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	ts := &transports{}
	defer ts.close()
	client := ts.newClient(conc)
	wave := func() {
		var wg sync.WaitGroup
		for range conc {
			wg.Go(func() {
				resp, err := client.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			})
		}
		for range conc { // all conc in flight at once
			<-arrived
		}
		for range conc {
			release <- struct{}{}
		}
		wg.Wait()
	}
	wave()
	wave()
	if n := conns.Load(); n != conc {
		t.Fatalf("%d connections for two waves of %d concurrent requests, want %d", n, conc, conc)
	}
}
