package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	protocluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/labstack/echo/v4"
)

// nodeClusterKind is the protoactor cluster kind every node with
// Discovery registers: coordinators find nodes in the cluster topology by
// it.
const nodeClusterKind = "dspex-node"

// DefaultClusterName names the protoactor cluster of Discovery when
// Discovery.ClusterName is empty.
const DefaultClusterName = "dspex"

// Discovery makes a node or a coordinator a member of a protoactor-go
// cluster, whose provider (automanaged, Consul, etcd, Kubernetes, ZooKeeper,
// or any protocluster.ClusterProvider) tells coordinators which nodes
// exist. It replaces, or adds to, NodeConfig.Join and
// CoordinatorConfig.Membership; liveness stays the coordinator's own
// business (it watches and pings the session it opens on every node).
//
// A node joins the cluster as a member advertising the kind "dspex-node";
// a coordinator joins as a client (it hosts nothing) and dials every member
// of that kind in the topology. Every process needs its own provider value.
type Discovery struct {
	// ClusterName names the cluster: processes see only members of the
	// same name (DefaultClusterName when empty).
	ClusterName string
	// Provider is the protoactor-go cluster provider of this process, for
	// instance Automanaged(...) or consul.New().
	Provider protocluster.ClusterProvider
}

// startCluster starts sys's remote through a protoactor cluster: as a
// member hosting the node kind, or as a client.
func (d *Discovery) startCluster(sys *actor.ActorSystem, rc *remote.Config, member bool) (c *protocluster.Cluster, err error) {
	if d.Provider == nil {
		return nil, errors.New("cluster: Discovery without a Provider")
	}
	name := d.ClusterName
	if name == "" {
		name = DefaultClusterName
	}
	var opts []protocluster.ConfigOption
	if member {
		// The kind marks nodes in the topology; its actors do nothing.
		opts = append(opts, protocluster.WithKinds(protocluster.NewKind(nodeClusterKind,
			actor.PropsFromFunc(func(actor.Context) {}))))
	}
	c = protocluster.New(sys, protocluster.Configure(name, d.Provider, disthash.New(), rc, opts...))
	defer func() {
		// Start panics when the provider or the listener fails.
		if v := recover(); v != nil {
			err = fmt.Errorf("cluster: joining cluster %q: %v", name, v)
		}
	}()
	if member {
		c.StartMember()
	} else {
		c.StartClient()
	}
	return c, nil
}

// stopCluster leaves the cluster: the provider deregisters this process
// and gossip stops; shutdown stops the rest.
func stopCluster(c *protocluster.Cluster) {
	if c == nil {
		return
	}
	_ = c.Config.ClusterProvider.Shutdown(true)
	c.Gossip.Shutdown()
}

// topologyMembership reports the nodes of a protoactor cluster topology,
// as seen by the coordinator's cluster client.
type topologyMembership struct{ sys *actor.ActorSystem }

func (t topologyMembership) Watch(ctx context.Context, update func([]string)) error {
	events := make(chan []string, 1)
	sub := t.sys.EventStream.Subscribe(func(evt any) {
		top, ok := evt.(*protocluster.ClusterTopology)
		if !ok {
			return
		}
		var addrs []string
		for _, m := range top.Members {
			if slices.Contains(m.Kinds, nodeClusterKind) {
				addrs = append(addrs, m.Address())
			}
		}
		slices.Sort(addrs)
		// Keep only the newest topology.
		select {
		case <-events:
		default:
		}
		events <- addrs
	})
	defer t.sys.EventStream.Unsubscribe(sub)
	for {
		select {
		case <-ctx.Done():
			return nil
		case addrs := <-events:
			update(addrs)
		}
	}
}

// unionMembership reports the union of the nodes of several memberships.
type unionMembership []Membership

func (u unionMembership) Watch(ctx context.Context, update func([]string)) error {
	var (
		mu     sync.Mutex
		lists  = make([][]string, len(u))
		wg     sync.WaitGroup
		closed bool
	)
	for i, m := range u {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = m.Watch(ctx, func(addrs []string) {
				mu.Lock()
				defer mu.Unlock()
				if closed {
					return
				}
				lists[i] = slices.Clone(addrs)
				var all []string
				for _, l := range lists {
					all = append(all, l...)
				}
				slices.Sort(all)
				update(slices.Compact(all))
			})
		}()
	}
	wg.Wait()
	mu.Lock()
	closed = true
	mu.Unlock()
	return nil
}

// AutomanagedConfig configures Automanaged.
type AutomanagedConfig struct {
	// Listen is the host:port where a node serves its health endpoint
	// (GET /_health), polled by the other members. Nodes need it, with an
	// explicit port; coordinators, which join as clients, serve nothing
	// and leave it empty. A host-less value binds 127.0.0.1.
	Listen string
	// Hosts lists the health endpoints (host:port) of every node of the
	// cluster: the seed list that membership is polled from.
	Hosts []string
	// Refresh is how often the members are polled (2 s when zero).
	Refresh time.Duration
}

// Automanaged returns protoactor-go's automanaged cluster provider, which
// needs no external service: every node serves a health endpoint, and
// every process polls the endpoints of Hosts. Unlike protoactor's own
// constructor, which binds every interface, it binds Listen (loopback by
// default).
func Automanaged(cfg AutomanagedConfig) protocluster.ClusterProvider {
	if cfg.Refresh <= 0 {
		cfg.Refresh = 2 * time.Second
	}
	return &automanagedProvider{cfg: cfg}
}

// automanagedProvider serves automanaged's health endpoint on a listener
// of its own, then lets automanaged poll the members.
type automanagedProvider struct {
	cfg   AutomanagedConfig
	inner *automanaged.AutoManagedProvider
}

func (p *automanagedProvider) StartMember(c *protocluster.Cluster) error {
	if p.inner != nil {
		return errors.New("cluster: an Automanaged provider serves one process")
	}
	listen := p.cfg.Listen
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("cluster: automanaged listen address %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return fmt.Errorf("cluster: automanaged listen address %q: needs an explicit port, which the other members poll", listen)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, portText))
	if err != nil {
		return fmt.Errorf("cluster: automanaged health endpoint: %w", err)
	}
	memberHost, memberPort, err := c.ActorSystem.GetHostPort()
	if err != nil {
		_ = l.Close()
		return err
	}
	node := automanaged.NewNode(c.Config.Name, c.ActorSystem.ID, memberHost, memberPort, port, c.GetClusterKinds())
	e := echo.New()
	e.HideBanner, e.HidePort, e.Listener = true, true, l
	e.GET("/_health", func(ec echo.Context) error { return ec.JSON(http.StatusOK, node) })
	p.inner = automanaged.NewWithTesting(p.cfg.Refresh, port, e, p.cfg.Hosts...)
	return p.inner.StartMember(c)
}

func (p *automanagedProvider) StartClient(c *protocluster.Cluster) error {
	if p.inner != nil {
		return errors.New("cluster: an Automanaged provider serves one process")
	}
	// A client serves no health endpoint; the echo value only makes
	// automanaged's Shutdown safe.
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	p.inner = automanaged.NewWithTesting(p.cfg.Refresh, 0, e, p.cfg.Hosts...)
	return p.inner.StartClient(c)
}

func (p *automanagedProvider) Shutdown(graceful bool) error {
	if p.inner == nil {
		return nil
	}
	return p.inner.Shutdown(graceful)
}
