package cluster

import (
	"strings"
	"testing"
)

func TestTLSMutualNeedsCA(t *testing.T) {
	_, err := (&TLS{CertFile: "node.pem", KeyFile: "node.key", Mutual: true}).options()
	if err == nil || !strings.Contains(err.Error(), "CAFile") {
		t.Fatalf("mutual TLS without a CA: %v", err)
	}
}

func TestStartRejectsBadListen(t *testing.T) {
	for _, listen := range []string{"127.0.0.1", "127.0.0.1:x", "127.0.0.1:70000"} {
		if _, _, _, err := startRemote(Endpoint{Listen: listen}); err == nil {
			t.Errorf("listen %q accepted", listen)
		}
	}
}
