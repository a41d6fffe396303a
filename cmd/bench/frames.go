package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// printFrames prints, for raw go-openai and for a typed Predict on the
// runtime, the stack frames of one request in flight on its caller's
// goroutine while it waits for the simulator: each frame's bytes and the
// running total. The figures come from the Go runtime's own traceback
// (GOTRACEBACK=system prints each frame's fp and sp): a child process
// holds a few requests in flight and is sent SIGQUIT.
func printFrames(ctx context.Context) error {
	b := bench{}
	url, stop, err := b.simulator(time.Minute)
	if err != nil {
		return err
	}
	defer stop()
	for _, path := range []string{"raw", "rt"} {
		tb, err := tracebackInFlight(ctx, path, url)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		frames, ok := callerFrames(tb, callMarkers[path])
		if !ok {
			return fmt.Errorf("%s: no goroutine of a call in the traceback", path)
		}
		fmt.Printf("%s: the caller's goroutine while its request waits (bytes, running total)\n", pathNames[path])
		printFrameTable(frames)
	}
	for _, path := range []string{"raw", "rt"} {
		fits, frames, err := stackLimit(ctx, path, url, smallStack)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if fits {
			fmt.Printf("%s: the caller's goroutine stays within a %d KiB stack until its request waits\n", pathNames[path], smallStack>>10)
			continue
		}
		fmt.Printf("%s: the caller's goroutine outgrows a %d KiB stack before its request waits, here (bytes, running total)\n", pathNames[path], smallStack>>10)
		printFrameTable(frames)
	}
	return nil
}

// smallStack is the stack size -frames checks a request fits in before
// it waits: the size a goroutine's stack starts at or soon reaches. A
// goroutine that outgrows it holds a stack twice as large while it waits.
const smallStack = 8 << 10

var pathNames = map[string]string{"raw": "raw go-openai", "rt": "typed Predict on the runtime"}

// callMarkers names, for each path, the function that a call's goroutine
// holds on its stack.
var callMarkers = map[string]string{"raw": "rawCall", "rt": "predictCall"}

// printFrameTable prints frames, innermost first, with their bytes and
// the running total.
func printFrameTable(frames []frame) {
	total := 0
	for _, f := range frames {
		total += f.size
		fmt.Printf("  %6d %6d  %s\n", f.size, total, f.name)
	}
}

// stackLimit reports whether a call of path gets to wait for its reply
// with its goroutine's stack within limit bytes. It runs a child process
// that caps every goroutine's stack at limit (runtime/debug.SetMaxStack)
// and holds one request in flight: the Go runtime aborts the child when a
// goroutine needs more, with a traceback of that goroutine, whose frames
// stackLimit returns.
func stackLimit(ctx context.Context, path, url string, limit int) (fits bool, frames []frame, err error) {
	child, err := startInFlight(ctx, path, url, "-inflight", "1", "-inflight-maxstack", strconv.Itoa(limit))
	if err != nil {
		return false, nil, err
	}
	// The child prints its figures once its request waits: it fits.
	if child.waiting {
		_ = child.cmd.Process.Kill()
		_ = child.cmd.Wait()
		return true, nil, nil
	}
	_ = child.cmd.Wait()
	frames, err = outgrown(child.stderr.String(), callMarkers[path])
	return false, frames, err
}

// outgrown returns the frames of the goroutine whose stack outgrew the
// limit of runtime/debug.SetMaxStack in traceback tb (the first goroutine
// it prints), which must be a call's: one whose stack holds a function
// named like marker.
func outgrown(tb, marker string) ([]frame, error) {
	if !strings.Contains(tb, "goroutine stack exceeds") {
		return nil, fmt.Errorf("child process ended before its request waited: %s", strings.TrimSpace(tb))
	}
	i := strings.Index(tb, "\ngoroutine ")
	if i < 0 {
		return nil, fmt.Errorf("no goroutine in the traceback: %s", strings.TrimSpace(tb))
	}
	first, _, _ := strings.Cut(tb[i:], "\n\n")
	frames, ok := callerFrames(first, marker)
	if !ok {
		return nil, fmt.Errorf("a goroutine other than a call's outgrew the limit: %s", strings.TrimSpace(first))
	}
	return frames, nil
}

// tracebackInFlight runs a child holding requests of path in flight and
// returns the traceback it prints on SIGQUIT.
func tracebackInFlight(ctx context.Context, path, url string) (string, error) {
	child, err := startInFlight(ctx, path, url, "-inflight", "20")
	if err != nil {
		return "", err
	}
	if !child.waiting {
		_ = child.cmd.Process.Kill()
		_ = child.cmd.Wait()
		return "", fmt.Errorf("child process ended before its calls were in flight: %s", strings.TrimSpace(child.stderr.String()))
	}
	if err := child.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		return "", err
	}
	_ = child.cmd.Wait() // it dies of the signal, on purpose
	return child.stderr.String(), nil
}

// heldChild is a child process holding requests of one path in flight
// (see inFlightMain), with GOTRACEBACK=system.
type heldChild struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	// waiting reports that the child printed its figures: every call it
	// holds is waiting for its reply. False when it ended first.
	waiting bool
}

// startInFlight starts a child process holding requests of path against
// the simulator at url, with args added, and waits until its calls wait
// for their replies or it ends, whichever comes first.
func startInFlight(ctx context.Context, path, url string, args ...string) (*heldChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{"-inflight-child", path, "-inflight-url", url}, args...)...)
	cmd.Env = append(os.Environ(), "GOTRACEBACK=system")
	child := &heldChild{cmd: cmd, stderr: new(bytes.Buffer)}
	cmd.Stderr = child.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	_, err = bufio.NewReader(stdout).ReadString('\n')
	child.waiting = err == nil
	return child, nil
}

// frame is one physical frame of a traceback.
type frame struct {
	name string
	size int
}

var fpSP = regexp.MustCompile(` fp=0x([0-9a-f]+) sp=0x([0-9a-f]+)`)

// callerFrames returns the frames, innermost first, of the first
// goroutine of traceback tb whose stack holds a function named like
// marker. A frame's size is its fp less its sp; the function it belongs
// to is named on the line above (inlined calls are listed before it and
// have no frame of their own).
func callerFrames(tb, marker string) ([]frame, bool) {
	for _, g := range strings.Split(tb, "\ngoroutine ") {
		if !strings.Contains(g, marker) {
			continue
		}
		lines := strings.Split(g, "\n")
		var frames []frame
		for i, l := range lines {
			m := fpSP.FindStringSubmatch(l)
			if m == nil || i == 0 {
				continue
			}
			fp, err1 := strconv.ParseUint(m[1], 16, 64)
			sp, err2 := strconv.ParseUint(m[2], 16, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			frames = append(frames, frame{name: shorten(lines[i-1]), size: int(fp - sp)})
		}
		return frames, len(frames) > 0
	}
	return nil, false
}

// shorten drops a frame name's argument list: from its first '(' that
// does not open a method's receiver (".(*T)").
func shorten(name string) string {
	for i := 1; i < len(name); i++ {
		if name[i] == '(' && name[i-1] != '.' {
			return name[:i]
		}
	}
	return name
}
