package main

import "testing"

// TestSpread checks the rounds line: each figure is taken within a round,
// then the lowest and highest over the rounds.
func TestSpread(t *testing.T) {
	samples := [][]sample{
		{{rate: 100, cpuUS: 100}, {rate: 200, cpuUS: 50}}, // raw
		{{rate: 90, cpuUS: 120}, {rate: 200, cpuUS: 55}},  // off
		{{rate: 81, cpuUS: 150}, {rate: 210, cpuUS: 50}},  // noop
	}
	got := spread([]string{"off", "noop"}, samples)
	want := "        rounds: rt off ratio 0.90–1.00, cpu× 1.10–1.20; rt noop ratio 0.81–1.05, cpu× 1.00–1.50; noop/off throughput 0.90–1.05"
	if got != want {
		t.Errorf("spread =\n%q\nwant\n%q", got, want)
	}
}
