package signature

// Same reports whether s and t are the same signature value: t is s or a
// copy of it, so their name, instructions and fields are equal. It costs a
// few comparisons, never a walk over the fields. A false answer does not
// mean they differ (two signatures parsed from one string are not the
// same value): Equal compares contents. Caches keyed by a signature use
// Same to tell that they still serve it: a Signature never changes after
// it is built, and every method that derives another copies its fields.
func (s Signature) Same(t Signature) bool {
	return s.name == t.name && s.instructions == t.instructions &&
		sameFields(s.inputs, t.inputs) && sameFields(s.outputs, t.outputs)
}

// sameFields reports whether a and b are the same slice.
func sameFields(a, b []Field) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
