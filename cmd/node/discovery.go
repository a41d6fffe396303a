package main

import (
	"fmt"

	"github.com/dspex-go/dspex/cluster"
)

// discovery returns the protoactor cluster provider the flags choose, or
// nil for seed lists only (-join).
func (f flags) discovery(member bool) (*cluster.Discovery, error) {
	switch f.provider {
	case "", "none":
		return nil, nil
	case "automanaged":
		hosts := splitList(f.amHosts)
		if len(hosts) == 0 {
			return nil, fmt.Errorf("-provider automanaged needs -automanaged-hosts")
		}
		if member && f.amListen == "" {
			return nil, fmt.Errorf("-provider automanaged needs -automanaged-listen on a node")
		}
		listen := f.amListen
		if !member {
			listen = "" // a coordinator joins as a client and serves nothing
		}
		return &cluster.Discovery{ClusterName: f.clusterName,
			Provider: cluster.Automanaged(cluster.AutomanagedConfig{Listen: listen, Hosts: hosts, Refresh: f.amRefresh})}, nil
	default:
		return nil, fmt.Errorf("unknown -provider %q (have automanaged, none)", f.provider)
	}
}
