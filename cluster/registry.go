package cluster

import (
	"fmt"
	"slices"
	"sync"

	"github.com/dspex-go/dspex/programs"
)

// Constructor builds a fresh program of one kind, without learned state:
// a node calls it, then loads the state the coordinator sent
// (programs.Load). The program should have no LM of its own, so that it
// uses the node's (see NodeConfig.LM); it must have the predictors, by
// name and fields, of the programs the coordinator evaluates under that
// kind.
type Constructor func() (programs.Program, error)

// Registry maps program kinds to their constructors. A coordinator names
// the kind of the program it evaluates; a node builds it from its own
// registry, so both must register the same kinds. The zero Registry is
// empty and ready to use; it is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	kinds map[string]Constructor
}

// Register adds kind to r. It fails if kind is empty, ctor nil, or kind
// already registered.
func (r *Registry) Register(kind string, ctor Constructor) error {
	if kind == "" {
		return fmt.Errorf("cluster: Register: empty kind")
	}
	if ctor == nil {
		return fmt.Errorf("cluster: Register %q: nil constructor", kind)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[kind]; dup {
		return fmt.Errorf("cluster: Register: kind %q registered twice", kind)
	}
	if r.kinds == nil {
		r.kinds = make(map[string]Constructor)
	}
	r.kinds[kind] = ctor
	return nil
}

// Lookup returns the constructor of kind.
func (r *Registry) Lookup(kind string) (Constructor, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.kinds[kind]
	return c, ok
}

// Kinds returns the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// defaultRegistry is the process-wide registry of DefaultRegistry.
var defaultRegistry = &Registry{}

// DefaultRegistry returns the registry Register adds to and nodes and
// coordinators use unless their configuration names another. It is a
// process-wide convenience for commands; libraries and tests should pass
// their own Registry.
func DefaultRegistry() *Registry { return defaultRegistry }

// Register adds kind to DefaultRegistry(), typically from an init function
// or main of both the coordinator's and the nodes' programs:
//
//	cluster.Register("qa-cot", func() (programs.Program, error) {
//		return programs.NewChainOfThoughtFrom(signature.MustParse("question -> answer"))
//	})
func Register(kind string, ctor Constructor) error { return defaultRegistry.Register(kind, ctor) }
