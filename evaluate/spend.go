package evaluate

import "github.com/dspex-go/dspex/history"

// spend fills the run's LM calls and cost from the meter that counted them.
func (r *Result) spend(m *history.Meter) {
	t := m.Total()
	r.Calls, r.Cost = t.Calls, t.Cost
}
