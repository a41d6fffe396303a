package cluster

import (
	"context"
	"slices"
)

// Membership tells a coordinator which nodes exist, besides the nodes that
// join it by themselves (NodeConfig.Join). It is the pluggable part of
// discovery: StaticMembership lists fixed addresses; an implementation
// backed by a service registry (Consul, etcd, Kubernetes endpoints, or a
// protoactor cluster provider's topology) reports the addresses it
// discovers. Liveness is the coordinator's own business: it watches the
// session it opens on every node and pings it.
type Membership interface {
	// Watch calls update with the full list of node addresses now and at
	// every change, until ctx ends; it returns when ctx ends. update must
	// not be called after Watch returns.
	Watch(ctx context.Context, update func(addrs []string)) error
}

// StaticMembership is a fixed list of node addresses (host:port). A node
// of the list that is down is retried until it answers.
func StaticMembership(addrs ...string) Membership { return static(slices.Clone(addrs)) }

type static []string

func (s static) Watch(ctx context.Context, update func([]string)) error {
	update(slices.Clone(s))
	<-ctx.Done()
	return nil
}
