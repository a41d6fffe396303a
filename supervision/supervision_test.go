package supervision

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/backoff"
	"github.com/dspex-go/dspex/internal/leakcheck"
)

func TestMain(m *testing.M) {
	leakcheck.Main(m)
}

// guard bounds every wait of a test, so that a bug fails the test instead of
// hanging it. It is never what a test waits for.
const guard = 10 * time.Second

// recorder collects the lifecycle events of worker actors.
type recorder struct {
	events chan string
}

func newRecorder() *recorder { return &recorder{events: make(chan string, 256)} }

func (r *recorder) next(t *testing.T) string {
	t.Helper()
	select {
	case e := <-r.events:
		return e
	case <-time.After(guard):
		t.Fatal("no lifecycle event")
		return ""
	}
}

// expect reads len(want) events and compares them, ignoring order.
func (r *recorder) expect(t *testing.T, want ...string) {
	t.Helper()
	got := make([]string, 0, len(want))
	for range want {
		got = append(got, r.next(t))
	}
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

type (
	incr  struct{}
	boom  struct{}
	query struct{ reply chan int }
)

// worker counts incr messages and panics on boom; its count is its state.
type worker struct {
	name    string
	rec     *recorder
	count   int
	release <-chan struct{} // when non-nil, Stopping blocks until closed
}

func (w *worker) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		w.rec.events <- "started:" + w.name
	case *actor.Restarting:
		w.rec.events <- "restarting:" + w.name
	case *actor.Stopping:
		if w.release != nil {
			<-w.release
		}
		w.rec.events <- "stopping:" + w.name
	case incr:
		w.count++
	case boom:
		panic("boom in " + w.name)
	case query:
		m.reply <- w.count
	}
}

func workerProps(name string, rec *recorder) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &worker{name: name, rec: rec} })
}

func countOf(t *testing.T, system *actor.ActorSystem, tree *Tree, name string) int {
	t.Helper()
	pid, ok := tree.Child(name)
	if !ok {
		t.Fatalf("child %s not running", name)
	}
	reply := make(chan int, 1)
	system.Root.Send(pid, query{reply: reply})
	select {
	case n := <-reply:
		return n
	case <-time.After(guard):
		t.Fatalf("child %s did not answer", name)
		return 0
	}
}

func newTestSystem(t *testing.T) *actor.ActorSystem {
	t.Helper()
	// protoactor starts a goroutine per dead-letter throttling period
	// (NewDeadLetter's NewThrottle) that ends after the interval; a short
	// interval lets goleak see it end instead of ignoring it.
	system := NewSystem(slog.New(slog.NewTextHandler(io.Discard, nil)), actor.WithDeadLetterThrottleInterval(time.Millisecond))
	t.Cleanup(system.Shutdown)
	return system
}

var quiet = WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// immediate restarts without backoff.
var immediate = backoff.Policy{Multiplier: 1}

func startTree(t *testing.T, system *actor.ActorSystem, spec Spec, opts ...Option) *Tree {
	t.Helper()
	tree, err := Start(system, spec, append([]Option{quiet}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		if err := tree.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return tree
}

func TestRestartResetsState(t *testing.T) {
	for _, tc := range []struct {
		strategy  Strategy
		restarted []string // children whose state is reset
	}{
		{OneForOne, []string{"a"}},
		{AllForOne, []string{"a", "b"}},
	} {
		t.Run(tc.strategy.String(), func(t *testing.T) {
			system := newTestSystem(t)
			rec := newRecorder()
			var events []Event
			var mu sync.Mutex
			tree := startTree(t, system, Spec{
				Name:     "tree",
				Strategy: tc.strategy,
				Backoff:  immediate,
				Children: []Child{
					{Name: "a", Props: workerProps("a", rec)},
					{Name: "b", Props: workerProps("b", rec)},
				},
			}, WithOnEvent(func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
			rec.expect(t, "started:a", "started:b")

			for _, name := range []string{"a", "b"} {
				pid, _ := tree.Child(name)
				system.Root.Send(pid, incr{})
				system.Root.Send(pid, incr{})
			}
			if got := countOf(t, system, tree, "a") + countOf(t, system, tree, "b"); got != 4 {
				t.Fatalf("count = %d, want 4", got)
			}
			before, _ := tree.Child("a")
			system.Root.Send(before, boom{})
			var want []string
			for _, n := range tc.restarted {
				want = append(want, "restarting:"+n, "started:"+n)
			}
			rec.expect(t, want...)

			for _, name := range []string{"a", "b"} {
				wantCount := 2
				if slices.Contains(tc.restarted, name) {
					wantCount = 0
				}
				if got := countOf(t, system, tree, name); got != wantCount {
					t.Errorf("%s count after restart = %d, want %d", name, got, wantCount)
				}
			}
			if after, _ := tree.Child("a"); !after.Equal(before) {
				t.Errorf("restart changed the PID: %v -> %v", before, after)
			}
			if diff := cmp.Diff(map[string]Counts{"a": {Restarts: 1}}, tree.Stats()); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(events) != 1 || events[0].Kind != EventRestart || events[0].Child != "a" || events[0].Supervisor != "tree" ||
				events[0].Attempt != 1 || events[0].Reason != "boom in a" {
				t.Errorf("events = %+v", events)
			}
		})
	}
}

func TestIntensityExceededStopsChild(t *testing.T) {
	system := newTestSystem(t)
	rec := newRecorder()
	tree := startTree(t, system, Spec{
		Name:      "tree",
		Intensity: Intensity{MaxRestarts: 1, Within: time.Hour},
		Backoff:   immediate,
		Children: []Child{
			{Name: "a", Props: workerProps("a", rec)},
			{Name: "b", Props: workerProps("b", rec)},
		},
	})
	rec.expect(t, "started:a", "started:b")
	pid, _ := tree.Child("a")
	system.Root.Send(pid, boom{})
	rec.expect(t, "restarting:a", "started:a")
	system.Root.Send(pid, boom{})
	rec.expect(t, "stopping:a")
	// The supervisor learns of the stop through Terminated; ask it for a
	// synchronous answer to order after it.
	waitSupervisor(t, system, tree)
	if _, ok := tree.Child("a"); ok {
		t.Error("child a still listed after intensity exceeded")
	}
	if got := countOf(t, system, tree, "b"); got != 0 {
		t.Errorf("b count = %d", got)
	}
	if diff := cmp.Diff(map[string]Counts{"a": {Restarts: 1, Stops: 1}}, tree.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

// waitSupervisor returns once the supervisor processed the messages sent to
// it so far (a SpawnChild of an invalid duplicate is answered in order).
func waitSupervisor(t *testing.T, system *actor.ActorSystem, tree *Tree) {
	t.Helper()
	reply := make(chan error, 1)
	system.Root.Send(tree.PID(), &startedQuery{reply: reply})
	select {
	case <-reply:
	case <-time.After(guard):
		t.Fatal("supervisor did not answer")
	}
}

func TestTemporaryChildIsNotRestarted(t *testing.T) {
	system := newTestSystem(t)
	rec := newRecorder()
	tree := startTree(t, system, Spec{
		Name:    "tree",
		Backoff: immediate,
		Children: []Child{
			{Name: "temp", Props: workerProps("temp", rec), Restart: Temporary},
		},
	})
	rec.expect(t, "started:temp")
	pid, _ := tree.Child("temp")
	system.Root.Send(pid, boom{})
	rec.expect(t, "stopping:temp")
	// The child's Terminated reaches the supervisor as a system message,
	// which may come after a query sent at once: ask again until it has
	// been handled, within the guard.
	deadline := time.Now().Add(guard)
	for {
		waitSupervisor(t, system, tree)
		if _, ok := tree.Child("temp"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("temporary child still listed")
		}
	}
	if got := tree.Stats()["temp"]; got != (Counts{Stops: 1}) {
		t.Errorf("stats = %+v", got)
	}
}

func TestEscalateRestartsSupervisorThenStopsTree(t *testing.T) {
	system := newTestSystem(t)
	rec := newRecorder()
	tree := startTree(t, system, Spec{
		Name:       "tree",
		Intensity:  Intensity{MaxRestarts: 1, Within: time.Hour},
		Backoff:    immediate,
		OnExceeded: Escalate,
		Children: []Child{
			{Name: "a", Props: workerProps("a", rec)},
			{Name: "b", Props: workerProps("b", rec)},
		},
	})
	rec.expect(t, "started:a", "started:b")
	b, _ := tree.Child("b")
	system.Root.Send(b, incr{})

	crash := func() {
		pid, ok := tree.Child("a")
		if !ok {
			t.Fatal("a not running")
		}
		system.Root.Send(pid, boom{})
	}
	crash()
	rec.expect(t, "restarting:a", "started:a")
	crash() // exceeds the child intensity: the supervisor restarts, and with it every child
	rec.expect(t, "stopping:a", "stopping:b", "started:a", "started:b")
	waitSupervisor(t, system, tree)
	if got := countOf(t, system, tree, "b"); got != 0 {
		t.Errorf("b kept its state across a supervisor restart: %d", got)
	}
	select {
	case <-tree.Done():
		t.Fatal("tree done after one escalation")
	default:
	}

	// A second escalation exceeds the guardian's intensity: the tree stops.
	crash()
	rec.expect(t, "restarting:a", "started:a")
	crash()
	rec.expect(t, "stopping:a", "stopping:b")
	select {
	case <-tree.Done():
	case <-time.After(guard):
		t.Fatal("tree not done after the guardian's intensity was exceeded")
	}
	got := tree.Stats()
	if got["a"].Escalations != 2 || got["tree"].Restarts != 1 || got["tree"].Stops != 1 {
		t.Errorf("stats = %+v", got)
	}
}

func TestStopOrderAndIdempotence(t *testing.T) {
	system := newTestSystem(t)
	rec := newRecorder()
	tree, err := Start(system, Spec{
		Name: "tree",
		Children: []Child{
			{Name: "a", Props: workerProps("a", rec)},
			{Name: "b", Props: workerProps("b", rec)},
			{Name: "c", Props: workerProps("c", rec)},
		},
	}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "started:a", "started:b", "started:c")
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	d, err := tree.SpawnChild(ctx, Child{Name: "d", Props: workerProps("d", rec)})
	if err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "started:d")
	if pid, ok := tree.Child("d"); !ok || !pid.Equal(d) {
		t.Fatalf("Child(d) = %v, %v", pid, ok)
	}
	if _, err := tree.SpawnChild(ctx, Child{Name: "d", Props: workerProps("d", rec)}); !errors.Is(err, actor.ErrNameExists) {
		t.Errorf("duplicate SpawnChild: %v", err)
	}

	if err := tree.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 4 {
		got = append(got, rec.next(t))
	}
	if diff := cmp.Diff([]string{"stopping:d", "stopping:c", "stopping:b", "stopping:a"}, got); diff != "" {
		t.Errorf("stop order (-want +got):\n%s", diff)
	}
	select {
	case <-tree.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if err := tree.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := tree.SpawnChild(ctx, Child{Name: "e", Props: workerProps("e", rec)}); !errors.Is(err, ErrStopped) {
		t.Errorf("SpawnChild after Stop: %v", err)
	}
}

func TestStopBoundedByContext(t *testing.T) {
	system := newTestSystem(t)
	rec := newRecorder()
	release := make(chan struct{})
	blocker := actor.PropsFromProducer(func() actor.Actor { return &worker{name: "blocker", rec: rec, release: release} })
	tree, err := Start(system, Spec{
		Name: "tree",
		Children: []Child{
			{Name: "a", Props: workerProps("a", rec)},
			{Name: "blocker", Props: blocker},
		},
	}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "started:a", "started:blocker")

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- tree.Stop(ctx) }()
	cancel() // the blocker cannot finish stopping before the context ends
	var err2 error
	select {
	case err2 = <-errc:
	case <-time.After(guard):
		t.Fatal("Stop did not return when its context ended")
	}
	var se *StopError
	if !errors.As(err2, &se) || se.Child != "blocker" || !errors.Is(err2, context.Canceled) {
		t.Fatalf("Stop = %v, want a *StopError naming blocker", err2)
	}
	if again := tree.Stop(context.Background()); again != err2 {
		t.Errorf("second Stop = %v, want the first result", again)
	}
	close(release)
	rec.expect(t, "stopping:blocker", "stopping:a")
	select {
	case <-tree.Done():
	case <-time.After(guard):
		t.Fatal("tree did not stop after the blocker was released")
	}
}

func TestStartErrors(t *testing.T) {
	system := newTestSystem(t)
	rec := newRecorder()
	for _, tc := range []struct {
		name string
		spec Spec
	}{
		{"no name", Spec{}},
		{"slash", Spec{Name: "a/b"}},
		{"nil props", Spec{Name: "x", Children: []Child{{Name: "a"}}}},
		{"duplicate child", Spec{Name: "x", Children: []Child{{Name: "a", Props: workerProps("a", rec)}, {Name: "a", Props: workerProps("a", rec)}}}},
		{"bad intensity", Spec{Name: "x", Intensity: Intensity{MaxRestarts: 1}}},
		{"bad backoff", Spec{Name: "x", Backoff: backoff.Policy{Initial: time.Second, Max: time.Millisecond, Multiplier: 2}}},
		{"bad jitter", Spec{Name: "x", Backoff: backoff.Policy{Multiplier: 2, Jitter: 2}}},
		{"bad multiplier", Spec{Name: "x", Backoff: backoff.Policy{Multiplier: 0.5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Start(system, tc.spec, quiet); !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("Start = %v, want ErrInvalidSpec", err)
			}
		})
	}
	t.Run("name taken", func(t *testing.T) {
		startTree(t, system, Spec{Name: "taken"})
		if _, err := Start(system, Spec{Name: "taken"}, quiet); !errors.Is(err, actor.ErrNameExists) {
			t.Errorf("Start = %v, want ErrNameExists", err)
		}
	})
	t.Run("child spawn fails", func(t *testing.T) {
		bad := workerProps("g", rec).Clone(actor.WithGuardian(actor.DefaultSupervisorStrategy()))
		if _, err := Start(system, Spec{Name: "badchild", Children: []Child{{Name: "g", Props: bad}}}, quiet); err == nil {
			t.Error("Start succeeded with a child that cannot be spawned")
		}
	})
}

func TestChildName(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"$1/openai:gpt-4o", "openai:gpt-4o"},
		{"$1/fake:m~2", "fake:m"},
		{"$1/fake:m~12", "fake:m"},
		{"plain", "plain"},
		{"$1/a~b", "a~b"},
		{"$1/x~", "x~"},
		{"$1/x~1a", "x~1a"},
		{"$1/x~3/child", "child"},
		{"$1/x~3/child~4", "child"},
	} {
		if got := ChildName(&actor.PID{Id: tc.id}); got != tc.want {
			t.Errorf("ChildName(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
	if got := ChildName(nil); got != "" {
		t.Errorf("ChildName(nil) = %q", got)
	}
}
