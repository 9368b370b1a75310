package k8stest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certValidity is how long the throwaway certificates stay valid. They live
// only as long as one test run or one `make cluster` session.
const certValidity = 24 * time.Hour

// LoopbackHosts are the names and addresses a loopback serving certificate covers.
var LoopbackHosts = []string{"127.0.0.1", "::1", "localhost"}

// CA is a throwaway certificate authority for loopback servers.
type CA struct {
	// CertPEM is the CA certificate, the value of a webhook's caBundle.
	CertPEM []byte

	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// KeyPair is a certificate and its private key, both PEM-encoded.
type KeyPair struct {
	CertPEM []byte
	KeyPEM  []byte
}

// ServingCert is a CA and a serving certificate it signed, with the files
// they were written to.
type ServingCert struct {
	CA      *CA
	Serving KeyPair

	// CAFile, CertFile and KeyFile are the PEM files in the folder passed to
	// WriteServingCert.
	CAFile   string
	CertFile string
	KeyFile  string
}

// NewCA creates a self-signed CA with an ECDSA P-256 key.
func NewCA(commonName string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate the CA key: %w", err)
	}

	template, err := certTemplate(commonName)
	if err != nil {
		return nil, err
	}
	template.IsCA = true
	template.BasicConstraintsValid = true
	template.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature

	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("failed to sign the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("failed to parse the CA certificate: %w", err)
	}
	return &CA{CertPEM: encodePEM("CERTIFICATE", der), cert: cert, key: key}, nil
}

// IssueServingCert signs a server certificate for hosts, each an IP address
// or a DNS name.
func (ca *CA) IssueServingCert(hosts ...string) (KeyPair, error) {
	if len(hosts) == 0 {
		return KeyPair{}, errors.New("a serving certificate needs at least one host")
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("failed to generate the serving key: %w", err)
	}

	template, err := certTemplate(hosts[0])
	if err != nil {
		return KeyPair{}, err
	}
	template.KeyUsage = x509.KeyUsageDigitalSignature
	template.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, host := range hosts {
		if ip := net.ParseIP(host); ip != nil {
			template.IPAddresses = append(template.IPAddresses, ip)
		} else {
			template.DNSNames = append(template.DNSNames, host)
		}
	}

	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("failed to sign the serving certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("failed to encode the serving key: %w", err)
	}
	return KeyPair{CertPEM: encodePEM("CERTIFICATE", der), KeyPEM: encodePEM("EC PRIVATE KEY", keyDER)}, nil
}

// CertPool returns a pool that trusts only this CA.
func (ca *CA) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// TLSCertificate parses the pair for a tls.Config.
func (kp KeyPair) TLSCertificate() (tls.Certificate, error) {
	return tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
}

// WriteServingCert creates a throwaway CA and a serving certificate for
// LoopbackHosts, and writes ca.crt, tls.crt and tls.key into dir.
func WriteServingCert(dir string) (*ServingCert, error) {
	ca, err := NewCA("veltrim-test-ca")
	if err != nil {
		return nil, err
	}
	serving, err := ca.IssueServingCert(LoopbackHosts...)
	if err != nil {
		return nil, err
	}

	sc := &ServingCert{
		CA:       ca,
		Serving:  serving,
		CAFile:   filepath.Join(dir, "ca.crt"),
		CertFile: filepath.Join(dir, "tls.crt"),
		KeyFile:  filepath.Join(dir, "tls.key"),
	}
	if err := writeFiles(map[string][]byte{sc.CAFile: ca.CertPEM, sc.CertFile: serving.CertPEM, sc.KeyFile: serving.KeyPEM}); err != nil {
		return nil, err
	}
	return sc, nil
}

func certTemplate(commonName string) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("failed to generate a serial number: %w", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(certValidity),
	}, nil
}

func encodePEM(blockType string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
}

// writeFiles writes each file with owner-only permissions, since some hold keys.
func writeFiles(files map[string][]byte) error {
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return fmt.Errorf("failed to write %s: %w", path, err)
		}
	}
	return nil
}
