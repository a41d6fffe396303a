package history

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/dspex-go/dspex/lm"
)

// Inspect prints the last n recorded calls (all for n < 0), oldest first,
// the way DSPy's inspect_history does (dspy/utils/inspect_history.py,
// stanfordnlp/dspy@00724430a97f82ff5d015acee564e01455412e8d): for each
// call its date, every message under its role, and the reply; then, which
// DSPy does not show, the predictor, usage, cost, latency and attempts.
// It colours the output when w is a terminal and prints plain text
// elsewhere.
func (h *History) Inspect(w io.Writer, n int) error {
	return Inspect(w, h.Last(n))
}

// Inspect prints records as History.Inspect does.
func Inspect(w io.Writer, records []Record) error {
	colour := false
	if f, ok := w.(*os.File); ok {
		colour = term.IsTerminal(int(f.Fd()))
	}
	return inspect(w, records, colour)
}

const (
	ansiBlue  = "\x1b[34m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiDim   = "\x1b[2m"
	ansiReset = "\x1b[0m"
)

func inspect(w io.Writer, records []Record, colour bool) error {
	bw := bufio.NewWriter(w)
	paint := func(code, s string) string {
		if !colour {
			return s
		}
		return code + s + ansiReset
	}
	for _, r := range records {
		fmt.Fprint(bw, "\n\n\n")
		head := "[" + r.Time.UTC().Format(time.RFC3339) + "] " + r.Provider + "/" + r.Model
		if r.Predictor != "" {
			head += " · " + r.Predictor
		}
		fmt.Fprintln(bw, paint(ansiBlue, head))
		fmt.Fprintln(bw)
		if r.Messages == nil && r.Replies == nil && r.Err == "" {
			fmt.Fprintln(bw, paint(ansiDim, "(messages not recorded)"))
			fmt.Fprintln(bw)
		}
		for _, m := range r.Messages {
			fmt.Fprintln(bw, paint(ansiRed, capitalize(string(m.Role))+" message:"))
			fmt.Fprintln(bw)
			fmt.Fprintln(bw, strings.TrimSpace(m.Content))
			fmt.Fprintln(bw)
			writeToolCalls(bw, m.ToolCalls)
		}
		switch {
		case r.Err != "":
			fmt.Fprintln(bw, paint(ansiRed, "Error:"))
			fmt.Fprintln(bw)
			fmt.Fprintln(bw, r.Err)
		case len(r.Replies) > 0:
			fmt.Fprintln(bw, paint(ansiRed, "Response:"))
			fmt.Fprintln(bw)
			fmt.Fprintln(bw, paint(ansiGreen, strings.TrimSpace(r.Replies[0])))
			if len(r.ToolCalls) > 0 {
				fmt.Fprintln(bw)
				writeToolCalls(bw, r.ToolCalls[0])
			}
			if len(r.Replies) > 1 {
				fmt.Fprintln(bw, paint(ansiRed, fmt.Sprintf(" \t (and %d other completions)", len(r.Replies)-1)))
			}
		}
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, paint(ansiDim, summary(r)))
	}
	fmt.Fprint(bw, "\n\n\n")
	return bw.Flush()
}

// summary is the line under a call: tokens, cost, latency, attempts.
func summary(r Record) string {
	u := r.Usage
	s := fmt.Sprintf("Usage: %d prompt", u.PromptTokens)
	if u.CacheReadTokens > 0 {
		s += fmt.Sprintf(" (%d cached)", u.CacheReadTokens)
	}
	s += fmt.Sprintf(" + %d completion = %d tokens · cost %s · %s", u.CompletionTokens, u.TotalTokens, r.Cost, r.Latency.Round(time.Millisecond))
	switch {
	case r.CacheHit:
		s += " · cache hit"
	case r.Attempts > 1:
		s += fmt.Sprintf(" · %d attempts", r.Attempts)
	}
	if len(r.FinishReasons) > 0 && r.FinishReasons[0] != "" && r.FinishReasons[0] != "stop" {
		s += " · finish " + r.FinishReasons[0]
	}
	if r.Rollout != 0 {
		s += fmt.Sprintf(" · rollout %d", r.Rollout)
	}
	if r.TraceID != "" {
		s += " · trace " + r.TraceID
	}
	return s
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// writeToolCalls prints a message's tool calls, one a line.
func writeToolCalls(w io.Writer, calls []lm.ToolCall) {
	for _, c := range calls {
		fmt.Fprintf(w, "Tool call %s: %s(%s)\n", c.ID, c.Name, c.Arguments)
	}
}
