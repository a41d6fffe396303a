//go:build !race

package test

// raceEnabled reports a build with the race detector.
const raceEnabled = false
