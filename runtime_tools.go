package dspex

// SupportsTools reports whether the provider the LM addresses takes
// native tool calls (config.Provider.NativeTools; a provider registered
// with WithProvider answers for itself), so that programs built with
// programs.WithNativeTools use them, and describe tools in text otherwise.
func (m runtimeLM) SupportsTools() bool { return m.r.clients.SupportsTools(m.id) }
