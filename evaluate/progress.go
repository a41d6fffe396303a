package evaluate

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress draws a run's progress bar, with the running score, or nothing.
// It is used only by the run's supervisor actor (and by Run after the
// supervisor is done), so it needs no lock.
type progress struct {
	bar      *progressbar.ProgressBar
	desc     string
	status   func() string // the dispatcher's status, or nil
	sum      float64
	finished int
}

// newProgress returns a bar for n examples, or a silent one when the
// configuration or the output (not a terminal) says so.
func newProgress(cfg *config, n int) *progress {
	p := &progress{desc: cfg.description}
	if sr, ok := cfg.dispatcher.(StatusReporter); ok {
		p.status = sr.Status
	}
	var w io.Writer
	switch cfg.progress {
	case progressOff:
		return p
	case progressOn:
		w = cfg.progressOut
	default:
		if !term.IsTerminal(int(os.Stderr.Fd())) {
			return p
		}
		w = os.Stderr
	}
	p.bar = progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(cfg.description),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(80*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	return p
}

// add counts a finished example.
func (p *progress) add(row Row) {
	if p.bar == nil {
		return
	}
	p.finished++
	p.sum += row.Score
	desc := fmt.Sprintf("%s %.1f%%", p.desc, 100*p.sum/float64(p.finished))
	if p.status != nil {
		desc += " [" + p.status() + "]"
	}
	p.bar.Describe(desc)
	_ = p.bar.Add(1)
}

// finish completes the bar (even when the run stopped early).
func (p *progress) finish() {
	if p.bar == nil {
		return
	}
	_ = p.bar.Finish()
}
