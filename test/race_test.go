//go:build race

package test

// raceEnabled reports a build with the race detector, which makes the
// long fault-mix runs several times slower.
const raceEnabled = true
