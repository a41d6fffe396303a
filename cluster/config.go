package cluster

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	protocluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/dspex-go/dspex/config"
)

// DefaultListen is where nodes and coordinators listen unless configured
// otherwise: loopback, a free port.
const DefaultListen = "127.0.0.1:0"

// Endpoint configures a process's remote endpoint (protoactor remote over
// gRPC): where it listens and how it secures its connections.
type Endpoint struct {
	// Listen is the host:port to listen on (DefaultListen when empty). A
	// host beyond loopback (including the empty host, every interface) is
	// refused with ErrInsecureListen unless peers are authenticated: a
	// cluster secret or mutual TLS.
	Listen string
	// Advertise, when set, is the address peers are told to reach this
	// process at (behind NAT or in containers); by default the listening
	// address.
	Advertise string
	// TLS, when set, secures the endpoint; without it traffic is plain
	// text, which is fine on loopback only.
	TLS *TLS
	// Secret is the cluster secret: every connection, in both directions,
	// starts with a mutual HMAC-SHA256 challenge-response over it, and a
	// peer without it is refused before any message. Empty means the
	// EnvClusterSecret environment variable; at least MinSecretLength
	// bytes, the same on every process of the cluster. It never prints.
	Secret config.Secret
	// Logger receives the actor system's and remote's logs; the default
	// discards them.
	Logger *slog.Logger
	// SecurityLogger receives a warning, with the peer's address and the
	// reason, for every connection refused by authentication (cluster
	// secret or mutual TLS); by default Logger.
	SecurityLogger *slog.Logger
}

// TLS secures remote endpoints with TLS, or mutual TLS. Every process of a
// cluster needs the same settings (a plain-text peer cannot connect).
type TLS struct {
	// CertFile and KeyFile are this process's certificate and key (PEM),
	// presented as a server and, with Mutual, as a client.
	CertFile, KeyFile string
	// CAFile holds the certificate authorities (PEM) that peers'
	// certificates must chain to. Empty means the system roots.
	CAFile string
	// Mutual requires and verifies client certificates (mutual TLS),
	// which must chain to CAFile (required with Mutual).
	Mutual bool
	// ServerName, when set, is the name peers' certificates must carry;
	// by default the host of the address dialled.
	ServerName string
}

// configs returns the server and client TLS configurations of t.
func (t *TLS) configs() (server, client *tls.Config, err error) {
	if t.Mutual && t.CAFile == "" {
		// With no pool, crypto/tls would accept client certificates from
		// any public authority.
		return nil, nil, errors.New("cluster: mutual TLS needs TLS.CAFile: the authorities client certificates must chain to")
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: TLS certificate: %w", err)
	}
	var pool *x509.CertPool
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("cluster: TLS CA: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("cluster: TLS CA %s: no certificate found", t.CAFile)
		}
	}
	server = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	if t.Mutual {
		server.ClientAuth = tls.RequireAndVerifyClientCert
		server.ClientCAs = pool
		client.Certificates = []tls.Certificate{cert}
	}
	return server, client, nil
}

// securityOptions returns the remote options that secure e: TLS and the
// cluster secret handshake, on the server and on the connections it
// dials; none when e has neither.
func (e Endpoint) securityOptions() ([]remote.ConfigOption, error) {
	secret := e.secret()
	if e.TLS == nil && secret == "" {
		return nil, nil
	}
	if secret != "" && len(secret.Reveal()) < MinSecretLength {
		return nil, fmt.Errorf("cluster: the cluster secret is %d bytes, want at least %d", len(secret.Reveal()), MinSecretLength)
	}
	log := cmp.Or(e.SecurityLogger, e.Logger, slog.New(slog.DiscardHandler))
	server := &peerCreds{log: log}
	client := &peerCreds{log: log}
	if secret != "" {
		server.secret, client.secret = []byte(secret.Reveal()), []byte(secret.Reveal())
	}
	if e.TLS != nil {
		st, ct, err := e.TLS.configs()
		if err != nil {
			return nil, err
		}
		server.inner, client.inner = credentials.NewTLS(st), credentials.NewTLS(ct)
	}
	return []remote.ConfigOption{
		remote.WithServerOptions(grpc.Creds(server)),
		remote.WithDialOptions(grpc.WithTransportCredentials(client)),
	}, nil
}

// startRemote starts an actor system with remote on e, registering kinds;
// it returns the system, the remote and the address peers reach it at.
func startRemote(e Endpoint, kinds ...*remote.Kind) (*actor.ActorSystem, *remote.Remote, string, error) {
	sys, r, _, addr, err := startEndpoint(e, nil, false, kinds...)
	return sys, r, addr, err
}

// startEndpoint is startRemote, and with d, the remote is started by a protoactor cluster that the process
// joins as a member (nodes) or a client (coordinators), returned too.
func startEndpoint(e Endpoint, d *Discovery, member bool, kinds ...*remote.Kind) (sys *actor.ActorSystem, r *remote.Remote, pc *protocluster.Cluster, addr string, err error) {
	listen := e.Listen
	if listen == "" {
		listen = DefaultListen
	}
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, nil, nil, "", fmt.Errorf("cluster: listen address %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, nil, nil, "", fmt.Errorf("cluster: listen address %q: bad port", listen)
	}
	if err := e.checkListen(listen, host); err != nil {
		return nil, nil, nil, "", err
	}
	opts := []remote.ConfigOption{remote.WithKinds(kinds...)}
	if e.Advertise != "" {
		opts = append(opts, remote.WithAdvertisedHost(e.Advertise))
	}
	sopts, err := e.securityOptions()
	if err != nil {
		return nil, nil, nil, "", err
	}
	opts = append(opts, sopts...)
	logger := e.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// protoactor starts a goroutine per dead-letter throttle period: keep
	// it short so that none outlives Close by long.
	sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }),
		actor.WithDeadLetterThrottleInterval(10*time.Millisecond))
	rc := remote.Configure(host, port, opts...)
	// An endpoint writer retries a failed connection MaxRetryCount times,
	// 2 s apart, and leaks the gRPC connection of every failed attempt but
	// the last (protoactor-go e952b3c). One attempt: a peer that cannot be
	// reached is terminated at once, which is what membership wants (its
	// watchers see Terminated; a live node joins again at its next
	// heartbeat).
	rc.MaxRetryCount = 1
	if d != nil {
		pc, err := d.startCluster(sys, rc, member)
		if err != nil {
			if pc != nil && pc.Remote != nil {
				stopCluster(pc)
				shutdown(sys, pc.Remote)
			} else {
				sys.Shutdown()
			}
			return nil, nil, nil, "", err
		}
		return sys, pc.Remote, pc, sys.Address(), nil
	}
	r = remote.NewRemote(sys, rc)
	defer func() {
		// remote.Start panics when it cannot listen.
		if v := recover(); v != nil {
			sys.Shutdown()
			sys, r, addr = nil, nil, ""
			err = fmt.Errorf("cluster: listen on %s: %v", listen, v)
		}
	}()
	r.Start()
	return sys, r, nil, sys.Address(), nil
}

var errClosed = errors.New("cluster: closed")
