package actors

import "github.com/dspex-go/dspex/lm"

// Resolve maps an LM id ("provider/model", "provider", or "" for the
// default) to the provider name and model it addresses now. The model is
// empty for a registered provider addressed without one.
func (c *Clients) Resolve(id string) (provider, model string, err error) {
	if r, ok := c.routes.Load(id); ok {
		return r.(*route).provider, r.(*route).model, nil
	}
	clientID, p, model, custom, err := c.resolve(id)
	if err != nil {
		return "", "", err
	}
	if custom != nil {
		name, _, _ := splitID(clientID)
		return name, model, nil
	}
	return p.Name, model, nil
}

// SupportsTools reports whether the provider that id addresses takes
// native tool calls: a registered provider's LM answers for itself
// (lm.SupportsTools), a configured one by its NativeTools setting. An id
// that does not resolve reports false.
func (c *Clients) SupportsTools(id string) bool {
	_, p, _, custom, err := c.resolve(id)
	switch {
	case err != nil:
		return false
	case custom != nil:
		return lm.SupportsTools(custom)
	}
	return p.NativeToolsEnabled()
}
