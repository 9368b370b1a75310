package k8stest

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServingCertVerifiesForLoopback(t *testing.T) {
	sc, err := WriteServingCert(t.TempDir())
	require.NoError(t, err)

	certPEM, err := os.ReadFile(sc.CertFile)
	require.NoError(t, err)
	assert.Equal(t, sc.Serving.CertPEM, certPEM)
	caPEM, err := os.ReadFile(sc.CAFile)
	require.NoError(t, err)
	assert.Equal(t, sc.CA.CertPEM, caPEM)

	block, _ := pem.Decode(certPEM)
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)

	for _, host := range LoopbackHosts {
		_, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: sc.CA.CertPool()})
		assert.NoError(t, err, "host %s", host)
	}
	_, err = cert.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: sc.CA.CertPool()})
	assert.Error(t, err, "the certificate must not cover other hosts")

	_, err = sc.Serving.TLSCertificate()
	assert.NoError(t, err)
}

func TestIssueServingCertNeedsHost(t *testing.T) {
	ca, err := NewCA("test")
	require.NoError(t, err)
	_, err = ca.IssueServingCert()
	assert.Error(t, err)
}
