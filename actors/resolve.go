package actors

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
