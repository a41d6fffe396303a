package cluster

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/config"
)

func TestTLSMutualNeedsCA(t *testing.T) {
	_, _, err := (&TLS{CertFile: "node.pem", KeyFile: "node.key", Mutual: true}).configs()
	if err == nil || !strings.Contains(err.Error(), "CAFile") {
		t.Fatalf("mutual TLS without a CA: %v", err)
	}
}

func TestStartRejectsBadListen(t *testing.T) {
	for _, listen := range []string{"127.0.0.1", "127.0.0.1:x", "127.0.0.1:70000"} {
		if _, _, _, err := startRemote(Endpoint{Listen: listen}); err == nil {
			t.Errorf("listen %q accepted", listen)
		}
	}
}

func TestListenBeyondLoopbackNeedsAuthentication(t *testing.T) {
	t.Setenv(EnvClusterSecret, "")
	tests := []struct {
		e    Endpoint
		host string
		ok   bool
	}{
		{Endpoint{}, "127.0.0.1", true},
		{Endpoint{}, "::1", true},
		{Endpoint{}, "localhost", true},
		{Endpoint{}, "0.0.0.0", false},
		{Endpoint{}, "", false},
		{Endpoint{}, "192.0.2.1", false},
		{Endpoint{}, "example.com", false},
		{Endpoint{TLS: &TLS{}}, "0.0.0.0", false}, // server TLS does not authenticate clients
		{Endpoint{TLS: &TLS{Mutual: true}}, "0.0.0.0", true},
		{Endpoint{Secret: config.Secret("0123456789abcdef")}, "0.0.0.0", true},
	}
	for _, tt := range tests {
		err := tt.e.checkListen(net.JoinHostPort(tt.host, "0"), tt.host)
		if (err == nil) != tt.ok || err != nil && (!errors.Is(err, ErrInsecureListen) || !strings.Contains(err.Error(), EnvClusterSecret)) {
			t.Errorf("checkListen(%q, TLS %v, secret %v) = %v", tt.host, tt.e.TLS != nil, tt.e.Secret != "", err)
		}
	}
	t.Setenv(EnvClusterSecret, "0123456789abcdef")
	if err := (Endpoint{}).checkListen("0.0.0.0:0", "0.0.0.0"); err != nil {
		t.Errorf("with %s set: %v", EnvClusterSecret, err)
	}
}

// TestSecretHandshake runs both sides over a pipe: the same secret
// authenticates both ways; another secret, or a peer that says nothing,
// is refused on both sides.
func TestSecretHandshake(t *testing.T) {
	secret := []byte("0123456789abcdef")
	tests := []struct {
		name         string
		clientSecret []byte
		ok           bool
	}{
		{"same secret", secret, true},
		{"wrong secret", []byte("fedcba9876543210"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			serr := make(chan error, 1)
			go func() {
				err := serverProof(a, secret)
				if err != nil {
					a.Close() // as ServerHandshake does
				}
				serr <- err
			}()
			cerr := clientProof(b, tt.clientSecret)
			if err := <-serr; (err == nil) != tt.ok || (cerr == nil) != tt.ok {
				t.Fatalf("server %v, client %v; want ok=%v", err, cerr, tt.ok)
			}
			if !tt.ok && (!errors.Is(cerr, ErrUnauthenticated) || !strings.Contains(cerr.Error(), "secret")) {
				t.Fatalf("client error %v", cerr)
			}
		})
	}
	t.Run("silent client", func(t *testing.T) {
		a, b := net.Pipe()
		go func() {
			buf := make([]byte, len(handshakeMagic)+nonceSize)
			_, _ = b.Read(buf)
			b.Close()
		}()
		if err := serverProof(a, secret); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("server = %v", err)
		}
		a.Close()
	})
}
