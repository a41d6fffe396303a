package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/dspex-go/dspex/config"
)

// EnvClusterSecret is the environment variable an endpoint reads its
// cluster secret from when Endpoint.Secret is empty.
const EnvClusterSecret = "DSPEX_CLUSTER_SECRET"

// MinSecretLength is the shortest cluster secret accepted, in bytes.
const MinSecretLength = 16

// ErrInsecureListen means an endpoint was asked to listen beyond loopback
// without a way to authenticate its peers.
var ErrInsecureListen = errors.New("cluster: refusing a non-loopback listen address without peer authentication")

// ErrUnauthenticated means a peer failed authentication: no or a wrong
// cluster secret, or no valid client certificate.
var ErrUnauthenticated = errors.New("cluster: peer not authenticated")

// handshakeTimeout bounds the secret handshake of one connection.
const handshakeTimeout = 10 * time.Second

// The secret handshake's wire format: the server speaks first.
const (
	handshakeMagic = "dspex-cluster-1\n"
	nonceSize      = 32
	macSize        = sha256.Size
	clientLabel    = "dspex cluster client proof"
	serverLabel    = "dspex cluster server proof"
)

// secret returns the endpoint's cluster secret: Secret, else the
// environment's EnvClusterSecret.
func (e Endpoint) secret() config.Secret {
	if e.Secret != "" {
		return e.Secret
	}
	return config.Secret(os.Getenv(EnvClusterSecret))
}

// authenticated reports whether e authenticates its peers: mutual TLS or a
// cluster secret.
func (e Endpoint) authenticated() bool {
	return e.TLS != nil && e.TLS.Mutual || e.secret() != ""
}

// checkListen refuses a listen host beyond loopback when e does not
// authenticate its peers.
func (e Endpoint) checkListen(listen, host string) error {
	if e.authenticated() || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("%w: %q would accept any process that can reach it; "+
		"set a cluster secret (Endpoint.Secret, or the %s environment variable, at least %d bytes, the same on every process) "+
		"or mutual TLS (Endpoint.TLS with Mutual; cmd/node: -tls-cert, -tls-key, -tls-ca, -mtls), "+
		"or listen on 127.0.0.1", ErrInsecureListen, listen, EnvClusterSecret, MinSecretLength)
}

// isLoopback reports a loopback IP or "localhost"; the empty host (every
// interface) and other names are not.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// peerCreds are the transport credentials of an endpoint, for both its
// gRPC server and the connections it dials: the TLS credentials when
// configured (inner), then, with a secret, a mutual HMAC challenge-response
// over the connection before any gRPC byte. A refused connection is closed
// and logged with the peer's address.
type peerCreds struct {
	inner  credentials.TransportCredentials // nil: plain text
	secret []byte                           // nil: no secret handshake
	log    *slog.Logger
}

// secretAuthInfo is the AuthInfo of a connection authenticated by the
// cluster secret only.
type secretAuthInfo struct{ credentials.CommonAuthInfo }

func (secretAuthInfo) AuthType() string { return "dspex-cluster-secret" }

// ClientHandshake implements credentials.TransportCredentials.
func (c *peerCreds) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	var info credentials.AuthInfo = secretAuthInfo{credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}}
	if c.inner != nil {
		var err error
		if conn, info, err = c.inner.ClientHandshake(ctx, authority, conn); err != nil {
			return nil, nil, err
		}
	}
	if c.secret != nil {
		if dl, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(dl)
		} else {
			_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
		}
		err := clientProof(conn, c.secret)
		_ = conn.SetDeadline(time.Time{})
		if err != nil {
			_ = conn.Close()
			c.log.Warn("cluster: peer refused", "peer", conn.RemoteAddr().String(), "reason", err.Error())
			return nil, nil, err
		}
	}
	return conn, info, nil
}

// ServerHandshake implements credentials.TransportCredentials.
func (c *peerCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	peer := conn.RemoteAddr().String()
	var info credentials.AuthInfo = secretAuthInfo{credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}}
	if c.inner != nil {
		var err error
		if conn, info, err = c.inner.ServerHandshake(conn); err != nil {
			c.log.Warn("cluster: peer refused", "peer", peer, "reason", "TLS: "+err.Error())
			return nil, nil, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
		}
	}
	if c.secret != nil {
		_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
		err := serverProof(conn, c.secret)
		_ = conn.SetDeadline(time.Time{})
		if err != nil {
			_ = conn.Close()
			c.log.Warn("cluster: peer refused", "peer", peer, "reason", err.Error())
			return nil, nil, err
		}
	}
	return conn, info, nil
}

// Info implements credentials.TransportCredentials.
func (c *peerCreds) Info() credentials.ProtocolInfo {
	if c.inner != nil {
		return c.inner.Info()
	}
	return credentials.ProtocolInfo{SecurityProtocol: "dspex-cluster-secret"}
}

// Clone implements credentials.TransportCredentials.
func (c *peerCreds) Clone() credentials.TransportCredentials {
	d := *c
	if c.inner != nil {
		d.inner = c.inner.Clone()
	}
	return &d
}

// OverrideServerName implements credentials.TransportCredentials.
//
// Deprecated: required by the interface only.
func (c *peerCreds) OverrideServerName(name string) error {
	if c.inner != nil {
		return c.inner.OverrideServerName(name) //nolint:staticcheck // forwarding the interface's own deprecated method
	}
	return nil
}

// mac is HMAC-SHA256(secret, label || a || b).
func mac(secret []byte, label string, a, b []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label))
	h.Write(a)
	h.Write(b)
	return h.Sum(nil)
}

// serverProof runs the server side of the handshake: it sends a fresh
// challenge, checks the client's proof of the secret over it, and proves
// the secret back over the client's own challenge.
func serverProof(conn net.Conn, secret []byte) error {
	challenge := make([]byte, nonceSize)
	if _, err := rand.Read(challenge); err != nil {
		return err
	}
	if _, err := conn.Write(append([]byte(handshakeMagic), challenge...)); err != nil {
		return fmt.Errorf("%w: handshake: %w", ErrUnauthenticated, err)
	}
	msg := make([]byte, nonceSize+macSize)
	if _, err := io.ReadFull(conn, msg); err != nil {
		return fmt.Errorf("%w: no cluster secret handshake (%w)", ErrUnauthenticated, err)
	}
	clientNonce, proof := msg[:nonceSize], msg[nonceSize:]
	if !hmac.Equal(proof, mac(secret, clientLabel, challenge, clientNonce)) {
		return fmt.Errorf("%w: wrong cluster secret", ErrUnauthenticated)
	}
	if _, err := conn.Write(mac(secret, serverLabel, clientNonce, challenge)); err != nil {
		return fmt.Errorf("%w: handshake: %w", ErrUnauthenticated, err)
	}
	return nil
}

// clientProof runs the client side: it answers the server's challenge with
// a proof of the secret and a challenge of its own, and checks the
// server's proof, so that neither side talks to a peer without the secret.
func clientProof(conn net.Conn, secret []byte) error {
	hello := make([]byte, len(handshakeMagic)+nonceSize)
	if _, err := io.ReadFull(conn, hello); err != nil {
		return fmt.Errorf("%w: the peer sent no cluster secret challenge (%w)", ErrUnauthenticated, err)
	}
	if string(hello[:len(handshakeMagic)]) != handshakeMagic {
		return fmt.Errorf("%w: the peer does not speak the cluster secret handshake", ErrUnauthenticated)
	}
	challenge := hello[len(handshakeMagic):]
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	if _, err := conn.Write(append(nonce, mac(secret, clientLabel, challenge, nonce)...)); err != nil {
		return fmt.Errorf("%w: handshake: %w", ErrUnauthenticated, err)
	}
	proof := make([]byte, macSize)
	if _, err := io.ReadFull(conn, proof); err != nil {
		return fmt.Errorf("%w: the peer refused our cluster secret (%w)", ErrUnauthenticated, err)
	}
	if !hmac.Equal(proof, mac(secret, serverLabel, nonce, challenge)) {
		return fmt.Errorf("%w: the peer's cluster secret differs", ErrUnauthenticated)
	}
	return nil
}
