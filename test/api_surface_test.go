package test

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// actorOnly are the packages whose API may show protoactor: the actor
// plumbing itself. Commands and internal packages have no public API.
var actorOnly = []string{"/actors", "/supervision", "/cluster", "/cmd/", "/internal/", "/test"}

var (
	// actorType is a reference to a protoactor type (actor.PID,
	// *actor.ActorSystem, ...), in code or prose.
	actorType = regexp.MustCompile(`(^|[^A-Za-z0-9_])\*?actor\.[A-Z]`)
	// protoactorName is any mention of protoactor in a declaration.
	protoactorName = regexp.MustCompile(`(?i)protoactor`)
)

// TestNoActorTypesInPublicAPI runs `go doc -all` on every package outside
// actors/, supervision/ and cluster/ (and cmd/, internal/) and fails when an
// exported declaration mentions a protoactor type: applications see
// signatures, modules, LMs and optimizers, never PIDs, props or actor
// systems.
func TestNoActorTypesInPublicAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go doc on every package")
	}
	out, err := exec.Command("go", "list", "github.com/dspex-go/dspex/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for pkg := range strings.FieldsSeq(string(out)) {
		rel := strings.TrimPrefix(pkg, "github.com/dspex-go/dspex")
		if skip(rel) {
			continue
		}
		doc, err := exec.Command("go", "doc", "-all", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go doc -all %s: %v\n%s", pkg, err, doc)
		}
		checked++
		for _, bad := range actorMentions(string(doc)) {
			t.Errorf("%s: %s", pkg, bad)
		}
	}
	if checked < 5 {
		t.Fatalf("checked %d packages: the package list is wrong", checked)
	}
}

func skip(rel string) bool {
	for _, p := range actorOnly {
		if strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p) || rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

// actorMentions returns the lines of go doc output that mention protoactor:
// an actor type anywhere, or the word protoactor in a declaration (a line
// of code, not of a doc comment; go doc indents doc comments with spaces).
func actorMentions(doc string) []string {
	var bad []string
	for line := range strings.SplitSeq(doc, "\n") {
		code := strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "func ") ||
			strings.HasPrefix(line, "type ") || strings.HasPrefix(line, "var ") || strings.HasPrefix(line, "const ")
		decl := line
		if i := strings.Index(decl, "//"); i >= 0 {
			decl = decl[:i]
		}
		if actorType.MatchString(line) || code && protoactorName.MatchString(decl) {
			bad = append(bad, strings.TrimSpace(line))
		}
	}
	return bad
}

// TestActorMentions pins what the surface check catches and lets pass.
func TestActorMentions(t *testing.T) {
	for _, tc := range []struct {
		line string
		bad  bool
	}{
		{"func (r *Runtime) ActorSystem() *actor.ActorSystem", true},
		{"func WithRuntime(rt interface{ ActorSystem() *actor.ActorSystem }) Option", true},
		{"\tPID actor.PID", true},
		{"value with an ActorSystem() *actor.ActorSystem method will do.", true},
		{"type T struct{ s protoactor.System }", true},
		{"func WithRuntime(rt Runtime) Option", false},
		{"func (r *Runtime) Actors() supervision.Handle", false},
		{"    runs on a protoactor actor system, in prose", false},
		{"Start builds the runtime: a protoactor actor system", false},
		{"\tClients actors.Clients // in the actors package: fine", false},
	} {
		if got := len(actorMentions(tc.line)) > 0; got != tc.bad {
			t.Errorf("%q: flagged %v, want %v", tc.line, got, tc.bad)
		}
	}
	for rel, want := range map[string]bool{
		"": false, "/evaluate": false, "/actors": true, "/supervision": true, "/cluster": true,
		"/cluster/pb": true, "/cmd/demo": true, "/internal/x": true, "/test": true, "/actorsx": false,
	} {
		if got := skip(rel); got != want {
			t.Errorf("skip(%q) = %v, want %v", rel, got, want)
		}
	}
}
