package programs

import (
	"context"

	"github.com/dspex-go/dspex/history"
)

// nameScope maps the predictors of a running program to their names from
// the program walk (NamedPredictors). Scopes nest: a lookup that misses
// tries the enclosing scope.
type nameScope struct {
	parent *nameScope
	names  map[*Predictor]string
}

type nameScopeKey struct{}

func scopeFrom(ctx context.Context) *nameScope {
	s, _ := ctx.Value(nameScopeKey{}).(*nameScope)
	return s
}

func (s *nameScope) lookup(p *Predictor) (string, bool) {
	for ; s != nil; s = s.parent {
		if name, ok := s.names[p]; ok {
			return name, true
		}
	}
	return "", false
}

// WithPredictorNames returns a copy of ctx under which the predictors of
// prog are known by their names from the program walk (NamedPredictors:
// "cot.predict", "agent.react", "agent.extract.predict"), the names
// optimizers and saved programs use. The LM calls a predictor of prog makes
// under ctx are recorded under that name (history.Record.Predictor).
//
// The evaluator names the program it runs this way. Without it, a program
// is named from the outermost built-in module or predictor called: a
// ChainOfThought called directly records "predict", a lone predictor
// "self". A user's struct composing modules needs it for the field names
// to appear. When prog cannot be walked, ctx is returned unchanged.
func WithPredictorNames(ctx context.Context, prog any) context.Context {
	nps, err := NamedPredictors(prog)
	if err != nil {
		return ctx
	}
	return withNames(ctx, nps)
}

func withNames(ctx context.Context, nps []NamedPredictor) context.Context {
	if len(nps) == 0 {
		return ctx
	}
	names := make(map[*Predictor]string, len(nps))
	for _, np := range nps {
		names[np.Predictor] = np.Name
	}
	return context.WithValue(ctx, nameScopeKey{}, &nameScope{parent: scopeFrom(ctx), names: names})
}

// enterModule is called when a built-in module starts: unless ctx already
// names the module's predictors (the module runs inside a named program),
// they are named relative to the module.
func enterModule(ctx context.Context, m Module) context.Context {
	nps := m.NamedPredictors()
	if len(nps) == 0 {
		return ctx
	}
	if _, ok := scopeFrom(ctx).lookup(nps[0].Predictor); ok {
		return ctx
	}
	return withNames(ctx, nps)
}

// withCopyNames names each copy (a key of copies) made of a predictor
// while a program runs by the name of the predictor it copies.
func withCopyNames(ctx context.Context, copies map[*Predictor]*Predictor) context.Context {
	outer := scopeFrom(ctx)
	names := make(map[*Predictor]string, len(copies))
	for q, p := range copies {
		if name, ok := outer.lookup(p); ok {
			names[q] = name
		}
	}
	if len(names) == 0 {
		return ctx
	}
	return context.WithValue(ctx, nameScopeKey{}, &nameScope{parent: outer, names: names})
}

// withPredictorName names p in the history of the calls it makes under
// ctx: by its name in the running program; by its own name (WithName, else
// its signature's) when it runs inside a program that does not hold it
// (Refine's feedback predictor); "self" when it is the program.
func withPredictorName(ctx context.Context, p *Predictor) context.Context {
	s := scopeFrom(ctx)
	name, ok := s.lookup(p)
	switch {
	case ok:
	case s != nil:
		name = p.displayName()
	default:
		name = "self"
	}
	return history.WithPredictor(ctx, name)
}
