//go:build !unix

package dspex

// fileLimit reports that the open-file limit cannot be read here.
func fileLimit() (uint64, bool) { return 0, false }
