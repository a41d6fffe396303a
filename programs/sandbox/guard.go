package sandbox

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Starlark has no memory accounting: a single `"x" * n` allocates n bytes
// in one step. Before a snippet runs, rewrite replaces every operation that
// can build a large value with a call to a guard builtin, which checks the
// size of the result before building it and charges it to the run's total:
//
//	a * b, a + b, a % b      ->  __sandbox_binop("*", a, b)
//	x *= y (also +=, %=)     ->  x *= __sandbox_aug("*", x, y)   (returns y)
//	s.replace(...), s.join(...), s.format(...), l.extend(...)
//	                         ->  __sandbox_replace(s, ...) and so on
//
// The container builtins (list, tuple, dict, set, sorted, reversed,
// enumerate, zip) are shadowed by checked versions in the session's
// globals.

var (
	binopName   = hidden + "binop"
	augName     = hidden + "aug"
	guardedOps  = map[syntax.Token]string{syntax.PLUS: "+", syntax.STAR: "*", syntax.PERCENT: "%"}
	augOps      = map[syntax.Token]string{syntax.PLUS_EQ: "+", syntax.STAR_EQ: "*", syntax.PERCENT_EQ: "%"}
	opTokens    = map[string]syntax.Token{"+": syntax.PLUS, "*": syntax.STAR, "%": syntax.PERCENT}
	guardedMeth = map[string]bool{"replace": true, "join": true, "format": true, "extend": true}
	guardedBuil = []string{"list", "tuple", "dict", "set", "sorted", "reversed", "enumerate", "zip"}
)

// rewrite replaces the allocating operations of f with guard calls, and
// refuses names with the reserved prefix.
func rewrite(f *syntax.File) error {
	var bad *syntax.Ident
	syntax.Walk(f, func(n syntax.Node) bool {
		if id, ok := n.(*syntax.Ident); ok && bad == nil && strings.HasPrefix(id.Name, hidden) {
			bad = id
		}
		return bad == nil
	})
	if bad != nil {
		return syntax.Error{Pos: bad.NamePos, Msg: "names starting with " + hidden + " are reserved"}
	}
	rewriteStmts(f.Stmts)
	return nil
}

func rewriteStmts(stmts []syntax.Stmt) {
	for _, s := range stmts {
		rewriteStmt(s)
	}
}

func rewriteStmt(s syntax.Stmt) {
	switch s := s.(type) {
	case *syntax.AssignStmt:
		rewriteTarget(s.LHS)
		s.RHS = rewriteExpr(s.RHS)
		if op, ok := augOps[s.Op]; ok {
			s.RHS = guardCall(augName, s.OpPos, strLit(op, s.OpPos), copyTarget(s.LHS), s.RHS)
		}
	case *syntax.ExprStmt:
		s.X = rewriteExpr(s.X)
	case *syntax.IfStmt:
		s.Cond = rewriteExpr(s.Cond)
		rewriteStmts(s.True)
		rewriteStmts(s.False)
	case *syntax.ForStmt:
		rewriteTarget(s.Vars)
		s.X = rewriteExpr(s.X)
		rewriteStmts(s.Body)
	case *syntax.WhileStmt:
		s.Cond = rewriteExpr(s.Cond)
		rewriteStmts(s.Body)
	case *syntax.DefStmt:
		rewriteParams(s.Params)
		rewriteStmts(s.Body)
	case *syntax.ReturnStmt:
		if s.Result != nil {
			s.Result = rewriteExpr(s.Result)
		}
	}
}

// rewriteTarget rewrites the expressions inside an assignment target (the
// index of a[i], the object of a.b) but keeps the target's shape.
func rewriteTarget(e syntax.Expr) {
	switch e := e.(type) {
	case *syntax.IndexExpr:
		e.X, e.Y = rewriteExpr(e.X), rewriteExpr(e.Y)
	case *syntax.DotExpr:
		e.X = rewriteExpr(e.X)
	case *syntax.ParenExpr:
		rewriteTarget(e.X)
	case *syntax.ListExpr:
		for _, x := range e.List {
			rewriteTarget(x)
		}
	case *syntax.TupleExpr:
		for _, x := range e.List {
			rewriteTarget(x)
		}
	}
}

// copyTarget returns the target of an augmented assignment as an
// expression to read; its sub-expressions are shared (and so evaluated
// twice).
func copyTarget(e syntax.Expr) syntax.Expr {
	switch e := e.(type) {
	case *syntax.Ident:
		return &syntax.Ident{NamePos: e.NamePos, Name: e.Name}
	case *syntax.IndexExpr:
		c := *e
		return &c
	case *syntax.DotExpr:
		c := *e
		return &c
	case *syntax.ParenExpr:
		return &syntax.ParenExpr{Lparen: e.Lparen, X: copyTarget(e.X), Rparen: e.Rparen}
	}
	return e
}

func rewriteParams(params []syntax.Expr) {
	for _, p := range params {
		if b, ok := p.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
			b.Y = rewriteExpr(b.Y) // a default value
		}
	}
}

func rewriteExprs(es []syntax.Expr) {
	for i, e := range es {
		es[i] = rewriteExpr(e)
	}
}

func rewriteExpr(e syntax.Expr) syntax.Expr {
	switch e := e.(type) {
	case *syntax.BinaryExpr:
		if e.Op == syntax.EQ { // name=value in a call
			e.Y = rewriteExpr(e.Y)
			return e
		}
		e.X, e.Y = rewriteExpr(e.X), rewriteExpr(e.Y)
		if op, ok := guardedOps[e.Op]; ok {
			return guardCall(binopName, e.OpPos, strLit(op, e.OpPos), e.X, e.Y)
		}
	case *syntax.CallExpr:
		e.Fn = rewriteExpr(e.Fn)
		rewriteExprs(e.Args)
		if d, ok := e.Fn.(*syntax.DotExpr); ok && guardedMeth[d.Name.Name] {
			return &syntax.CallExpr{Fn: &syntax.Ident{NamePos: d.Name.NamePos, Name: hidden + d.Name.Name},
				Lparen: e.Lparen, Args: append([]syntax.Expr{d.X}, e.Args...), Rparen: e.Rparen}
		}
	case *syntax.UnaryExpr:
		if e.X != nil {
			e.X = rewriteExpr(e.X)
		}
	case *syntax.ParenExpr:
		e.X = rewriteExpr(e.X)
	case *syntax.CondExpr:
		e.Cond, e.True, e.False = rewriteExpr(e.Cond), rewriteExpr(e.True), rewriteExpr(e.False)
	case *syntax.IndexExpr:
		e.X, e.Y = rewriteExpr(e.X), rewriteExpr(e.Y)
	case *syntax.SliceExpr:
		e.X = rewriteExpr(e.X)
		for _, p := range []*syntax.Expr{&e.Lo, &e.Hi, &e.Step} {
			if *p != nil {
				*p = rewriteExpr(*p)
			}
		}
	case *syntax.DotExpr:
		e.X = rewriteExpr(e.X)
	case *syntax.ListExpr:
		rewriteExprs(e.List)
	case *syntax.TupleExpr:
		rewriteExprs(e.List)
	case *syntax.DictExpr:
		for _, x := range e.List {
			if de, ok := x.(*syntax.DictEntry); ok {
				de.Key, de.Value = rewriteExpr(de.Key), rewriteExpr(de.Value)
			}
		}
	case *syntax.Comprehension:
		e.Body = rewriteExpr(e.Body)
		for _, c := range e.Clauses {
			switch c := c.(type) {
			case *syntax.ForClause:
				rewriteTarget(c.Vars)
				c.X = rewriteExpr(c.X)
			case *syntax.IfClause:
				c.Cond = rewriteExpr(c.Cond)
			}
		}
	case *syntax.LambdaExpr:
		rewriteParams(e.Params)
		e.Body = rewriteExpr(e.Body)
	}
	return e
}

func guardCall(name string, pos syntax.Position, args ...syntax.Expr) syntax.Expr {
	return &syntax.CallExpr{Fn: &syntax.Ident{NamePos: pos, Name: name}, Lparen: pos, Args: args, Rparen: pos}
}

func strLit(s string, pos syntax.Position) syntax.Expr {
	return &syntax.Literal{Token: syntax.STRING, TokenPos: pos, Raw: `"` + s + `"`, Value: s}
}

// guards returns the guard builtins and the checked container builtins.
func (ss *session) guards() starlark.StringDict {
	g := starlark.StringDict{
		binopName:          starlark.NewBuiltin("operator", ss.binop),
		augName:            starlark.NewBuiltin("operator", ss.aug),
		hidden + "replace": starlark.NewBuiltin("replace", ss.method("replace", ss.replaceSize)),
		hidden + "join":    starlark.NewBuiltin("join", ss.method("join", ss.joinSize)),
		hidden + "extend":  starlark.NewBuiltin("extend", ss.method("extend", ss.extendSize)),
		hidden + "format":  starlark.NewBuiltin("format", ss.method("format", ss.formatSize)),
	}
	for _, name := range guardedBuil {
		g[name] = starlark.NewBuiltin(name, ss.container(starlark.Universe[name].(*starlark.Builtin)))
	}
	return g
}

// sizeOf is what v counts for against the limits.
func sizeOf(v starlark.Value) int64 {
	switch v := v.(type) {
	case starlark.String:
		return int64(len(v))
	case starlark.Bytes:
		return int64(len(v))
	case starlark.Int:
		return int64(v.BigInt().BitLen() / 8)
	case starlark.Sequence:
		return int64(v.Len()) * elemBytes
	case starlark.Indexable:
		return int64(v.Len()) * elemBytes
	}
	return 0
}

// length is the length of a string or container, or -1.
func length(v starlark.Value) int64 {
	switch v := v.(type) {
	case starlark.String:
		return int64(len(v))
	case starlark.Bytes:
		return int64(len(v))
	case starlark.Sequence:
		return int64(v.Len())
	case starlark.Indexable:
		return int64(v.Len())
	}
	return -1
}

// check refuses a value of n bytes or elements.
func (ss *session) check(n int64, what string) error {
	if n > int64(ss.interp.maxValue) {
		return &memError{msg: fmt.Sprintf("%s would hold %d items, more than the sandbox allows (%d)", what, n, ss.interp.maxValue)}
	}
	return nil
}

// charge adds v to the run's total.
func (ss *session) charge(v starlark.Value) error {
	n := sizeOf(v)
	if l := length(v); l > int64(ss.interp.maxValue) {
		return &memError{msg: fmt.Sprintf("a value of %d items is more than the sandbox allows (%d)", l, ss.interp.maxValue)}
	}
	ss.alloc += n
	if ss.alloc > ss.interp.maxAlloc {
		return &memError{msg: fmt.Sprintf("the code built more than %d bytes in total", ss.interp.maxAlloc)}
	}
	return nil
}

// predict returns the size of x op y before it is computed, or -1 when it
// cannot grow beyond its operands.
func (ss *session) predict(op string, x, y starlark.Value) error {
	switch op {
	case "*":
		if xi, ok := x.(starlark.Int); ok {
			if yi, ok := y.(starlark.Int); ok {
				bits := int64(xi.BigInt().BitLen() + yi.BigInt().BitLen())
				return ss.check(bits/8, "the product")
			}
			x, y = y, x
		}
		yi, ok := y.(starlark.Int)
		if !ok {
			return nil
		}
		l := length(x)
		if l < 0 {
			return nil
		}
		n, ok := yi.Int64()
		if !ok {
			n = 1 << 62
		}
		if total := float64(l) * float64(n); total > float64(ss.interp.maxValue) {
			return &memError{msg: fmt.Sprintf("the repeated value would hold %.0f items, more than the sandbox allows (%d)", total, ss.interp.maxValue)}
		}
		return nil
	case "+":
		lx, ly := length(x), length(y)
		if lx >= 0 && ly >= 0 {
			return ss.check(lx+ly, "the concatenation")
		}
	case "%":
		f, ok := x.(starlark.String)
		if !ok {
			return nil
		}
		n := int64(len(f))
		if t, isTuple := y.(starlark.Tuple); isTuple {
			for _, a := range t {
				n += textLen(a)
			}
		} else {
			n += textLen(y)
		}
		return ss.check(n, "the formatted string")
	}
	return nil
}

// textLen bounds the length of v printed: a string's own length, else its
// Starlark representation's.
func textLen(v starlark.Value) int64 {
	if s, ok := v.(starlark.String); ok {
		return int64(len(s))
	}
	return int64(len(v.String()))
}

// formatSize bounds the result of fmt.format(args...): every replacement
// field may hold the longest argument.
func (ss *session) formatSize(recv starlark.Value, args starlark.Tuple) int64 {
	f, ok := recv.(starlark.String)
	if !ok {
		return 0
	}
	var longest int64
	for _, a := range args {
		longest = max(longest, textLen(a))
	}
	fields := int64(strings.Count(string(f), "{"))
	if longest > 0 && fields > int64(ss.interp.maxValue)/longest+1 {
		return int64(ss.interp.maxValue) + 1
	}
	return int64(len(f)) + fields*longest
}

func (ss *session) binop(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	op := string(args[0].(starlark.String))
	x, y := args[1], args[2]
	if err := ss.predict(op, x, y); err != nil {
		return nil, err
	}
	v, err := starlark.Binary(opTokens[op], x, y)
	if err != nil {
		return nil, err
	}
	return v, ss.charge(v)
}

func (ss *session) aug(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	op := string(args[0].(starlark.String))
	x, y := args[1], args[2]
	if _, isList := x.(*starlark.List); isList && op == "+" {
		if ly := iterLen(y); ly >= 0 {
			if err := ss.check(length(x)+ly, "the list"); err != nil {
				return nil, err
			}
			ss.alloc += ly * elemBytes
		}
		return y, nil
	}
	if err := ss.predict(op, x, y); err != nil {
		return nil, err
	}
	return y, nil
}

// iterLen is the number of items an iterable yields, when known.
func iterLen(v starlark.Value) int64 {
	if l := length(v); l >= 0 {
		if _, isStr := v.(starlark.String); !isStr {
			return l
		}
	}
	return -1
}

// container wraps a container builtin: its iterable arguments must fit.
func (ss *session) container(b *starlark.Builtin) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		for _, a := range args {
			if n := iterLen(a); n >= 0 {
				if err := ss.check(n, "the "+b.Name()); err != nil {
					return nil, err
				}
			}
		}
		v, err := starlark.Call(t, b, args, kwargs)
		if err != nil {
			return nil, err
		}
		return v, ss.charge(v)
	}
}

// method wraps a string or list method: size, when not nil, predicts the
// result's size from the receiver and arguments.
func (ss *session) method(name string, size func(recv starlark.Value, args starlark.Tuple) int64) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		recv := args[0]
		ha, ok := recv.(starlark.HasAttrs)
		if !ok {
			return nil, fmt.Errorf("%s has no .%s field or method", recv.Type(), name)
		}
		m, err := ha.Attr(name)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return nil, fmt.Errorf("%s has no .%s field or method", recv.Type(), name)
		}
		if size != nil {
			sizeArgs := args[1:]
			for _, kv := range kwargs {
				sizeArgs = append(sizeArgs[:len(sizeArgs):len(sizeArgs)], kv[1])
			}
			if err := ss.check(size(recv, sizeArgs), "the result of ."+name); err != nil {
				return nil, err
			}
		}
		v, err := starlark.Call(t, m, args[1:], kwargs)
		if err != nil {
			return nil, err
		}
		return v, ss.charge(v)
	}
}

func (ss *session) replaceSize(recv starlark.Value, args starlark.Tuple) int64 {
	s, ok1 := recv.(starlark.String)
	if len(args) < 2 || !ok1 {
		return 0
	}
	old, ok2 := args[0].(starlark.String)
	repl, ok3 := args[1].(starlark.String)
	if !ok2 || !ok3 {
		return 0
	}
	n := int64(strings.Count(string(s), string(old)))
	return int64(len(s)) + n*max(0, int64(len(repl)-len(old)))
}

func (ss *session) joinSize(recv starlark.Value, args starlark.Tuple) int64 {
	sep, ok := recv.(starlark.String)
	if len(args) != 1 || !ok {
		return 0
	}
	it := starlark.Iterate(args[0])
	if it == nil {
		return 0
	}
	defer it.Done()
	var total, n int64
	var x starlark.Value
	for it.Next(&x) {
		if s, ok := x.(starlark.String); ok {
			total += int64(len(s))
		}
		n++
		if total+n*int64(len(sep)) > int64(ss.interp.maxValue) {
			break
		}
	}
	return total + max(0, n-1)*int64(len(sep))
}

func (ss *session) extendSize(recv starlark.Value, args starlark.Tuple) int64 {
	if len(args) != 1 {
		return 0
	}
	return max(0, length(recv)) + max(0, iterLen(args[0]))
}
