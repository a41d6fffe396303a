package teleprompter

import (
	"testing"

	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// TestTeacherPortableFor checks the program a teacher ships to another node
// for one example: without the demo that is the example, and at the
// round's rollout and temperature 1.0 after the first round.
func TestTeacherPortableFor(t *testing.T) {
	p, err := programs.NewPredictFrom(signature.MustParse("question -> answer"))
	if err != nil {
		t.Fatal(err)
	}
	demos := []programs.Values{
		{"question": "q1", "answer": "a1"},
		{"question": "q2", "answer": "a2"},
	}
	p = p.WithDemos(demos)
	nps, err := predictorsOf(p)
	if err != nil {
		t.Fatal(err)
	}
	tch := &teacher{prog: p, nps: nps}
	for _, tc := range []struct {
		name      string
		round     int
		inputs    programs.Values
		wantDemos int
	}{
		{"round 0, not a demo", 0, programs.Values{"question": "q9"}, 2},
		{"round 0, a demo", 0, programs.Values{"question": "q1"}, 1},
		{"round 2, not a demo", 2, programs.Values{"question": "q9"}, 2},
		{"round 2, a demo", 2, programs.Values{"question": "q2"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, err := tch.forRound(tc.round)
			if err != nil {
				t.Fatal(err)
			}
			pp, err := run.PortableFor(tc.inputs)
			if err != nil {
				t.Fatal(err)
			}
			shipped, err := predictorsOf(pp.Program)
			if err != nil {
				t.Fatal(err)
			}
			got := shipped[0].Predictor.Demos()
			if len(got) != tc.wantDemos {
				t.Fatalf("shipped %d demos (%v), want %d", len(got), got, tc.wantDemos)
			}
			for _, d := range got {
				if isDemoOf(d, tc.inputs) {
					t.Errorf("shipped the example's own demo %v", d)
				}
			}
			if tc.round == 0 {
				if pp.Rollout != 0 || pp.Temperature != nil {
					t.Errorf("round 0 ships rollout %d, temperature %v", pp.Rollout, pp.Temperature)
				}
				return
			}
			if pp.Rollout != tc.round || pp.Temperature == nil || *pp.Temperature != 1 {
				t.Errorf("round %d ships rollout %d, temperature %v", tc.round, pp.Rollout, pp.Temperature)
			}
		})
	}
}
