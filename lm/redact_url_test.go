package lm_test

import (
	"testing"

	"github.com/dspex-go/dspex/lm"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.openai.com/v1":                 "https://api.openai.com/v1",
		"http://user:hunter2@127.0.0.1:11434/v1":    "http://xxxxx@127.0.0.1:11434/v1",
		"http://sk-token@127.0.0.1/v1":              "http://xxxxx@127.0.0.1/v1",
		"http://user:hunter2@127.0.0.1:bad port/v1": "http://xxxxx@127.0.0.1:bad port/v1",
		"user:hunter2@host":                         "xxxxx@host",
	} {
		if got := lm.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
