package retrieve_test

import (
	"testing"

	"github.com/dspex-go/dspex/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
