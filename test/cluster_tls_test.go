package test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dspex-go/dspex/cluster"
	"github.com/dspex-go/dspex/evaluate"
)

// clCerts writes a CA and a certificate for 127.0.0.1 signed by it (PEM)
// into dir, and returns the files.
func clCerts(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dspex test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "dspex node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("node.pem", "CERTIFICATE", leafDER), write("node.key", "EC PRIVATE KEY", keyDER)
}

// TestClusterMutualTLS runs a coordinator and a node process with mutual
// TLS on their endpoints and evaluates over them.
func TestClusterMutualTLS(t *testing.T) {
	bin := clBuild(t)
	sim := evSim(t)
	ca, cert, key := clCerts(t, t.TempDir())
	c := clCoordinator(t, func(cfg *cluster.CoordinatorConfig) {
		cfg.TLS = &cluster.TLS{CertFile: cert, KeyFile: key, CAFile: ca, Mutual: true}
	})
	clNode(t, bin, c.Address(), sim, "tls", "-tls-cert", cert, "-tls-key", key, "-tls-ca", ca, "-mtls")
	t.Cleanup(func() { _ = c.Close(context.Background()) }) // before the node is killed
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitNodes(ctx, 1); err != nil {
		t.Fatal(err)
	}
	prog := clQA(t)
	res, err := evaluate.Run(ctx, prog, clDevset(50), evaluate.ExactMatch("answer"), evaluate.WithoutProgress(),
		evaluate.WithDispatcher(c.Dispatcher("qa-predict")), evaluate.WithConcurrency(16))
	if err != nil || res.Scored != 50 {
		t.Fatalf("%s: %v", res.Summary(), err)
	}
}
