package cluster

import (
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
)

// DefaultListen is where nodes and coordinators listen unless configured
// otherwise: loopback, a free port.
const DefaultListen = "127.0.0.1:0"

// Endpoint configures a process's remote endpoint (protoactor remote over
// gRPC): where it listens and how it secures its connections.
type Endpoint struct {
	// Listen is the host:port to listen on (DefaultListen when empty). Bind
	// to a non-loopback address only on purpose, with TLS.
	Listen string
	// Advertise, when set, is the address peers are told to reach this
	// process at (behind NAT or in containers); by default the listening
	// address.
	Advertise string
	// TLS, when set, secures the endpoint; without it traffic is plain
	// text, which is fine on loopback only.
	TLS *TLS
	// Logger receives the actor system's and remote's logs; the default
	// discards them.
	Logger *slog.Logger
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

// options returns the remote options that apply t.
func (t *TLS) options() ([]remote.ConfigOption, error) {
	if t.Mutual && t.CAFile == "" {
		// With no pool, crypto/tls would accept client certificates from
		// any public authority.
		return nil, errors.New("cluster: mutual TLS needs TLS.CAFile: the authorities client certificates must chain to")
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("cluster: TLS certificate: %w", err)
	}
	var pool *x509.CertPool
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("cluster: TLS CA: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cluster: TLS CA %s: no certificate found", t.CAFile)
		}
	}
	server := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	client := &tls.Config{RootCAs: pool, ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	if t.Mutual {
		server.ClientAuth = tls.RequireAndVerifyClientCert
		server.ClientCAs = pool
		client.Certificates = []tls.Certificate{cert}
	}
	return []remote.ConfigOption{
		remote.WithServerOptions(grpc.Creds(credentials.NewTLS(server))),
		remote.WithDialOptions(grpc.WithTransportCredentials(credentials.NewTLS(client))),
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
	opts := []remote.ConfigOption{remote.WithKinds(kinds...)}
	if e.Advertise != "" {
		opts = append(opts, remote.WithAdvertisedHost(e.Advertise))
	}
	if e.TLS != nil {
		topts, err := e.TLS.options()
		if err != nil {
			return nil, nil, nil, "", err
		}
		opts = append(opts, topts...)
	}
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
